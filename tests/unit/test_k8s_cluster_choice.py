"""Choosing a cluster by configuration: `--target`, a named kubeconfig, or the runner pod's own ServiceAccount; and
the run lease that keeps a second run out of a namespace."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from chaos360.binding import chosen_target
from kernel.errors import UsageError
from lab.k8s.cluster_lock import acquire_within, died_here, lease_is_live
from lab.k8s.cluster_target import configured_access, in_cluster_kubeconfig

NOW = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC)


def _account(tmp_path: Path, namespace: str = "staging-agent360") -> Path:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("a-token")
    (account / "ca.crt").write_text("a-ca")
    (account / "namespace").write_text(namespace + "\n")
    return account


def test_the_target_is_lab_unless_chosen_and_nothing_else_is_accepted() -> None:
    assert chosen_target({}) == "lab"
    assert chosen_target({"CHAOS360_TARGET": "k8s"}) == "k8s"
    with pytest.raises(UsageError, match=r"target 'openshift' is not one of \['lab', 'k8s'\]"):
        chosen_target({"CHAOS360_TARGET": "openshift"})


def test_outside_a_pod_without_a_kubeconfig_no_cluster_is_named(tmp_path: Path) -> None:
    assert configured_access({}, account=tmp_path / "none") is None
    assert in_cluster_kubeconfig({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, tmp_path / "none") is None
    assert in_cluster_kubeconfig({}, _account(tmp_path)) is None, "a token file alone is not a pod"


def test_inside_a_pod_the_service_account_is_the_identity_and_its_namespace_the_only_one(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    found = in_cluster_kubeconfig(env, _account(tmp_path), directory=tmp_path)
    assert found is not None
    path, namespace = found
    config = yaml.safe_load(path.read_text())
    assert namespace == "staging-agent360"
    assert config["clusters"][0]["cluster"]["server"] == "https://10.96.0.1:443"
    assert config["users"][0]["user"] == {"tokenFile": str(tmp_path / "serviceaccount" / "token")}, \
        "the token file is named, not copied: a rotated token is read again"
    assert path.stat().st_mode & 0o077 == 0


def test_a_pod_s_access_defaults_to_its_namespace_and_an_explicit_one_must_be_allowed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAOS360_STATE_DIR", str(tmp_path / "state"))
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}
    account = _account(tmp_path)
    access = configured_access(env, account)
    assert access is not None
    assert access.namespace == "staging-agent360" and access.allowed_namespaces == ("staging-agent360",)
    assert access.refusal("in-cluster") is None
    elsewhere = configured_access({**env, "CHAOS360_K8S_NAMESPACE": "payments"}, account)
    assert elsewhere is not None
    assert elsewhere.refusal("in-cluster") is not None and "payments" in str(elsewhere.refusal("in-cluster"))
    system = configured_access({**env, "CHAOS360_K8S_NAMESPACE": "kube-system"}, account)
    assert system is not None and "never a target" in str(system.refusal("in-cluster"))


def test_a_named_kubeconfig_wins_over_the_pod_s_own(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "staging.kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    access = configured_access({"CHAOS360_KUBECONFIG": str(kubeconfig), "KUBERNETES_SERVICE_HOST": "10.96.0.1"},
                               _account(tmp_path))
    assert access is not None and access.kubeconfig == kubeconfig and access.namespace == "agent360"


def test_a_lease_binds_while_renewed_within_its_duration() -> None:
    renewed = NOW - datetime.timedelta(seconds=59)
    assert lease_is_live("runner-pod/pid-7", renewed, 60, NOW)
    assert not lease_is_live("runner-pod/pid-7", NOW - datetime.timedelta(seconds=61), 60, NOW), \
        "a holder that died stops renewing: its lease frees itself"
    assert not lease_is_live(None, renewed, 60, NOW)
    assert not lease_is_live("runner-pod/pid-7", None, 60, NOW)


def test_a_holder_on_this_machine_whose_process_is_gone_does_not_bind() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert died_here(f"{socket.gethostname()}/pid-{gone.pid}")
    assert not died_here(f"{socket.gethostname()}/pid-{os.getpid()}"), "a live run binds"
    assert not died_here(f"runner-pod-x7/pid-{gone.pid}"), "another machine's process cannot be asked"
    assert not died_here(None)


class _BusyThenFree:
    def __init__(self, busy_times: int) -> None:
        self.busy_times, self.calls = busy_times, 0

    def acquire(self) -> None:
        self.calls += 1
        if self.calls <= self.busy_times:
            raise UsageError("namespace agent360 is busy: runner-pod/pid-7 holds lease chaos360-run")


def test_a_heal_waits_for_the_lease_and_a_run_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lab.k8s.cluster_lock.time.sleep", lambda _s: None)
    said: list[str] = []
    waiting = _BusyThenFree(busy_times=2)
    acquire_within(waiting, 60, said.append)  # type: ignore[arg-type]
    assert waiting.calls == 3 and len(said) == 2 and "is busy" in said[0]
    with pytest.raises(UsageError, match="is busy"):
        acquire_within(_BusyThenFree(busy_times=1), 0, said.append)  # type: ignore[arg-type]
