"""Background load for the length of an experiment: Locust in a subprocess, one history line per request."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from kernel.errors import UsageError
from kernel.fault import Arguments, Call, Declared, Footprint, Lab, NoArguments
from kernel.interrupts import request_abort
from kernel.objectives import load_objectives
from kernel.recorder import Recorder
from kernel.run import Run, current_run
from loadtests.controller import MAX_DURATION_S, MAX_USERS, LoadController, LoadSpec
from loadtests.schedule import MAX_PACE_S, MIN_PACE_S, PACE_S
from probes.stop_conditions import watch


def start_load(users: int = 20, spawn_rate: float = 20, duration_s: float = 120, pace_s: float = PACE_S,
               configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    run = current_run(configuration)
    try:
        spec = LoadSpec(base_url=run.inventory.host_url("lb"), users=users, spawn_rate=spawn_rate,
                        duration_s=duration_s, pace_s=pace_s)
    except ValueError as error:
        raise UsageError(str(error)) from None
    controller = LoadController(spec, run.run_dir, marker=run.run_dir.name).start()
    run.background.append(controller)
    conditions = run.stop_conditions or load_objectives().stop_conditions
    run.background.append(watch(run.requests_file, run.events, conditions, request_abort))
    run.events.append("load.start", users=users, duration_s=duration_s, pace_s=pace_s, pid=controller.pid)
    return {"users": users, "duration_s": duration_s, "pace_s": pace_s, "pid": controller.pid}


def stop_load(configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    return stop_load_of(current_run(configuration))


def stop_load_of(run: Run) -> dict[str, Any]:
    stopped = []
    for watcher in [w for w in run.background if isinstance(w, Recorder)]:
        watcher.stop()
        run.background.remove(watcher)
    for controller in [c for c in run.background if isinstance(c, LoadController)]:
        controller.stop()
        stopped.append(controller.pid)
        run.background.remove(controller)
    run.events.append("load.stop", pids=stopped)
    return {"stopped": stopped}


class StartLoad(Arguments):
    users: Annotated[int, Field(ge=1, le=MAX_USERS)] = 20
    spawn_rate: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 20
    duration_s: Annotated[float, Field(ge=1, le=MAX_DURATION_S, allow_inf_nan=False)] = 120
    pace_s: Annotated[float, Field(ge=MIN_PACE_S, le=MAX_PACE_S, allow_inf_nan=False)] = PACE_S


def _plan_start(call: Call, lab: Lab) -> Footprint:
    users, pace = call.get("users"), call.get("pace_s")
    return Footprint(f"start load: {users} users (spawning {call.get('spawn_rate'):g}/s), a request every {pace:g} s "
                     f"each ({users / pace:.0f}/s intended), for {call.get('duration_s'):g} s through "
                     f"{lab.inventory.host_url('lb')}")


DECLARED = (
    Declared(start_load, "load", StartLoad, _plan_start),
    Declared(stop_load, "restore", NoArguments, lambda call, lab: Footprint("stop the load")),
)
