"""What the Kubernetes target does not have yet: the experiment steps that need it are refused when the experiment
is checked (before any fault), and the target operations refuse in one line."""

from __future__ import annotations

from pathlib import Path

from kernel.errors import UsageError

NEEDS = {
    "actions.balancer.blind_health_checks": "turning the balancer's health checks off",
    "actions.backup.take_backup": "copying member files",
    "actions.disaster.lose_data": "destroying a member with its data",
    "actions.restore.restore_from_backup": "restoring member files",
    "actions.redis.return_master": "a master back within 1.5 s of its stop (a member's pod takes longer to return)",
}


def refusal(provider: str) -> str | None:
    """Why an experiment step cannot run on the Kubernetes target, or None when it can."""
    if provider not in NEEDS:
        return None
    return (f"this step needs {NEEDS[provider]}, which the Kubernetes target does not have yet; run this "
            "experiment on the Docker lab")


def experiment_refusal(document: object) -> str | None:
    """Why the Kubernetes target cannot run an experiment (its first step that needs what it does not have, by
    the step's name), or None; read from the experiment as written, before any check of it."""
    steps = [step for section in ("method", "rollbacks") for step in _listed(document, section)]
    for step in steps:
        provider = step.get("provider")
        if isinstance(provider, dict) and provider.get("type") == "python":
            needed = NEEDS.get(f"{provider.get('module')}.{provider.get('func')}")
            if needed:
                return f"step {step.get('name')!r} needs {needed}"
    return None


def _listed(document: object, section: str) -> list[dict[str, object]]:
    found = document.get(section) if isinstance(document, dict) else None
    return [step for step in found if isinstance(step, dict)] if isinstance(found, list) else []


class NotOnKubernetes:
    """What the Docker lab's HAProxy, Toxiproxy and container files give and this target does not have yet: each
    refuses in one line, so an experiment that needs it fails clearly (its undo, if any, was never recorded)."""

    def _refuse(self, what: str) -> UsageError:
        return UsageError(f"{what}: not available on the Kubernetes target yet; run this experiment on the Docker lab "
                          "(`chaos360 lab up`)")

    def balancer_sessions(self) -> dict[str, int]:
        raise self._refuse("per-server sessions")

    def balancer_checks(self) -> dict[str, bool]:
        return {}

    def set_balancer_checks(self, server: str, enabled: bool) -> None:
        raise self._refuse("turning health checks off")

    def destroy(self, name: str) -> None:
        raise self._refuse("destroying a member with its data")

    def recreate(self, names: list[str]) -> None:
        raise self._refuse("recreating a member")

    def copy_out(self, name: str, path: str, dest: Path) -> list[Path]:
        raise self._refuse("copying files out of a member")

    def copy_in(self, name: str, source: Path, path: str) -> None:
        raise self._refuse("copying files into a member")
