"""Deployments as the guide writes them: a rolling update (maxSurge 1, maxUnavailable 0) and a 90/10 canary."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Annotated, Any

from pydantic import Field

from kernel import service_client
from kernel.errors import LabError, UsageError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, NoArguments, one_of
from kernel.ledger import Undo
from kernel.objectives import load_objectives
from kernel.run import Run, current_run
from kernel.target import CANARY_SLOT, SURGE_SLOT, ControllerRollout, RolloutState
from kernel.waiting import poll_until, wait_for, within

UP_TIMEOUT_S = 60.0
CANARY_FAULTS = ("pause", "kill", "stop")
DRAIN_TIMEOUT_S = 5.0
ROLLOUT_TIMEOUT_S = 300.0


def _wait_server(run: Run, server: str, state: str, timeout_s: float = UP_TIMEOUT_S) -> float:
    """Wait until the balancer's status of `server` is `state` ("UP" or "DOWN", either possibly mid-transition)."""
    return wait_for(lambda: run.target.balancer_states().get(server, "").startswith(state), timeout_s,
                    f"the load balancer seeing {server} {state}")


def _wait_ready(url: str, timeout_s: float = UP_TIMEOUT_S) -> None:
    """The replica's own /ready must answer before the load balancer is told to route to it."""
    wait_for(lambda: service_client.request("GET", f"{url}/ready").status == 200, timeout_s, f"{url} ready")


def _serving(run: Run) -> dict[str, str]:
    return {name: state for name, state in run.target.balancer_states().items() if state.startswith("UP")}


def _drain(run: Run, server: str) -> None:
    run.target.set_balancer_state(server, "drain")
    within(lambda: run.target.balancer_sessions().get(server, 0) == 0, DRAIN_TIMEOUT_S, poll_s=0.1)


def _replace(run: Run, app: str, min_serving: list[dict[str, str]]) -> float:
    """Drain one replica, restart it (SIGTERM, graceful), and wait until HAProxy routes to it again.

    The replica stays stopped until HAProxy's checks have seen it down, so its return is judged by fresh checks:
    a quick restart would otherwise leave HAProxy's UP from before the stop standing, and a check that timed out
    during the stop would take the replica out after it had been counted back.
    """
    _drain(run, app)
    run.record_fault("rolling-restart", Undo(op="start", args={"name": app}), affects=[app], instance=app)
    started = time.monotonic()
    run.target.stop(app, timeout_s=10)
    _wait_server(run, app, "DOWN")
    min_serving.append(_serving(run))
    run.target.start(app)
    _wait_ready(run.inventory.host_url(app))
    run.target.set_balancer_state(app, "ready")
    _wait_server(run, app, "UP")
    return round(time.monotonic() - started, 2)


def rolling_restart(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Replace every app replica one at a time; a surge replica is serving before each one leaves."""
    run = current_run(configuration)
    policy = load_objectives().rolling_update
    if policy.max_surge < 1:
        raise UsageError("rolling_restart needs max_surge >= 1 in objectives.yaml")
    if isinstance(run.target, ControllerRollout):
        return _watch_controller_rollout(run, run.target, policy.max_unavailable)
    apps = [a.name for a in run.inventory.by_role("app")]
    min_serving: list[dict[str, str]] = []
    durations = {}
    run.record_fault("surge", Undo(op="remove_variant", args={"slot": SURGE_SLOT}), instance="surge")
    with ExitStack() as stack:
        stack.callback(run.target.remove_variant, SURGE_SLOT)
        _wait_ready(run.target.start_variant(SURGE_SLOT, {"AGENT360_VERSION": "v1-surge"}))
        run.target.set_balancer_state("surge", "ready")
        _wait_server(run, "surge", "UP")
        for app in apps:
            durations[app] = _replace(run, app, min_serving)
        _drain(run, "surge")
        run.target.set_balancer_state("surge", "maint")
    capacity = min((len(s) for s in min_serving), default=0)
    run.record_effect("rolling-restart", len(durations) == len(apps) and capacity >= len(apps) - policy.max_unavailable,
                      replaced=durations, min_serving=capacity, serving_while_replacing=min_serving)
    return {"replaced_s": durations, "min_serving_during_update": capacity, "replicas": len(apps)}


def _watch_controller_rollout(run: Run, target: ControllerRollout, max_unavailable: int) -> dict[str, Any]:
    """The target's controller replaces the replicas by its own strategy; the harness restarts it and looks at what
    serves until it is done. Each old replica seen leaving is a replacement, logged as the hand-driven update logs
    one."""
    run.record_fault("rolling-restart", Undo(op="await_rollout", args={}), instance="app")
    started = time.monotonic()
    target.restart_app()
    looks: list[RolloutState] = []
    left: dict[str, float] = {}

    def look() -> RolloutState:
        state = target.rollout_state()
        looks.append(state)
        for replica in state.leaving:
            if replica not in left:
                left[replica] = round(time.monotonic() - started, 2)
                run.events.append("rollout.replace", replica=replica, serving=state.serving)
        return state

    final = poll_until(look, lambda s: s.done, ROLLOUT_TIMEOUT_S, poll_s=0.25)
    capacity = min(s.serving for s in looks)
    took = round(time.monotonic() - started, 2)
    run.record_effect("rolling-restart", final.done and len(left) >= final.desired
                      and capacity >= final.desired - max_unavailable,
                      replaced=left, min_serving=capacity, rollout_s=took, done=final.done)
    if not final.done:
        raise LabError(f"the rollout did not finish within {ROLLOUT_TIMEOUT_S:.0f} s: {final.updated}/"
                       f"{final.desired} replicas updated, {final.serving} serving")
    return {"replaced_at_s": left, "min_serving_during_update": capacity, "replicas": final.desired,
            "rollout_s": took}


def canary_fault(fault: str = "pause", canary_s: float = 10.0,
                 configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Send 10% of traffic to a v2 replica, break v2 only, then roll the canary back (weight to maint)."""
    if fault not in CANARY_FAULTS:
        raise UsageError(f"canary fault {fault!r} is not one of pause, kill, stop")
    if not 0 < canary_s <= 600:
        raise UsageError(f"canary_s {canary_s} must be within 0..600")
    run = current_run(configuration)
    with ExitStack() as stack:
        stack.callback(run.target.remove_variant, CANARY_SLOT)
        _wait_ready(run.target.start_variant(CANARY_SLOT, {"AGENT360_VERSION": "v2"}))
        run.target.set_balancer_state("canary", "ready")
        _wait_server(run, "canary", "UP")
        run.record_fault(f"canary-{fault}", Undo(op="remove_variant", args={"slot": CANARY_SLOT}),
                         instance="canary", version="v2")
        run.target.break_variant(CANARY_SLOT, fault)
        left_rotation_s = _wait_server(run, "canary", "DOWN", timeout_s=canary_s + 30)
        time.sleep(max(0.0, canary_s - left_rotation_s))
        run.target.set_balancer_state("canary", "maint")
        run.events.append("fault.heal", fault=f"canary-{fault}", action="rollback to v1")
    run.record_effect(f"canary-{fault}", left_rotation_s >= 0, left_rotation_s=left_rotation_s)
    return {"canary": "v2", "fault": fault, "left_rotation_s": round(left_rotation_s, 2)}


class CanaryFault(Arguments):
    fault: Annotated[str, one_of(CANARY_FAULTS, "canary fault")] = "pause"
    canary_s: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)] = 10.0


def _plan_rolling(call: Call, lab: Lab) -> Footprint:
    apps = ", ".join(i.name for i in lab.inventory.by_role("app"))
    return Footprint(f"rolling restart of {apps}, one at a time behind a surge replica")


def _plan_canary(call: Call, lab: Lab) -> Footprint:
    return Footprint(f"route 10% of traffic to a v2 canary, {call.get('fault')} it, roll it back after "
                  f"{call.get('canary_s'):g} s")


DECLARED = (
    Declared(rolling_restart, "fault", NoArguments, _plan_rolling),
    Declared(canary_fault, "fault", CanaryFault, _plan_canary),
)
