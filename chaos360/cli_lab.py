"""`chaos360 lab ...`: build, start, inspect, smoke-test and remove the local lab."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from chaos360.healing import refuse_unhealed
from kernel.errors import ExitCode, UsageError
from kernel.progress import Progress
from kernel.runlock import run_lock
from lab.topology import LabSettings, Profile


def _lab_settings(args: argparse.Namespace) -> LabSettings:
    app_env = tuple(_parse_env(item) for item in args.app_env or ())
    try:
        return LabSettings(
            profile=Profile(args.profile), lab_id=args.lab_id, subnet=args.subnet, port_base=args.port_base,
            sentinel_down_after_ms=args.down_after_ms, sentinel_failover_timeout_ms=args.failover_timeout_ms,
            cassandra_heap=args.cassandra_heap, app_env=app_env,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None


def _parse_env(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.startswith("AGENT360_"):
        raise UsageError(f"--app-env {item!r}: expected AGENT360_NAME=value")
    return key, value


def _cmd_lab_build(args: argparse.Namespace) -> int:
    from lab import build

    tags = build.build_all(Progress(quiet=args.quiet), force=args.force)
    for name, tag in tags.items():
        print(f"{name}\t{tag}")
    return ExitCode.PASS


def _cmd_lab_up(args: argparse.Namespace) -> int:
    from lab import docker_lab

    settings = _lab_settings(args)
    progress = Progress(quiet=args.quiet)
    with run_lock(settings.lab_id):
        refuse_unhealed(settings.lab_id)
        inventory = docker_lab.up(settings, progress)
    lb = inventory.by_role("lb")[0]
    print(f"Agent360 at http://127.0.0.1:{lb.host_ports['http']}  ({len(inventory.instances)} instances, "
          f"ready in {progress.elapsed:.1f}s)")
    return ExitCode.PASS


def _cmd_lab_status(args: argparse.Namespace) -> int:
    from lab import docker_lab

    report = docker_lab.status(args.lab_id)
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        _print_status(report)
    return ExitCode.PASS if report["ready"] else ExitCode.UNKNOWN


def _print_status(report: dict[str, object]) -> None:
    print(f"lab {report['lab_id']} ({report['profile']}): {'ready' if report['ready'] else 'NOT READY'}")
    for check in report["checks"]:  # type: ignore[attr-defined]
        print(f"  {'ok ' if check['ok'] else 'BAD'} {check['name']:<11} {check['detail']}")
    for item in report["instances"]:  # type: ignore[attr-defined]
        ports = ",".join(f"{k}={v}" for k, v in item["host_ports"].items())
        print(f"  {item['name']:<13} {item['role']:<10} zone={item['zone'] or '-':<2} {item['ip']:<15} "
              f"{item['state']:<8} restarts={item['restarts']} {ports}")


def _cmd_lab_down(args: argparse.Namespace) -> int:
    from lab import docker_lab

    with run_lock(args.lab_id):
        docker_lab.down(args.lab_id, Progress(quiet=args.quiet))
    return ExitCode.PASS


def _cmd_lab_smoke(args: argparse.Namespace) -> int:
    from kernel import inventory as inventory_store
    from kernel import service_client

    if args.tasks < 1 or args.tasks > 100_000:
        raise UsageError(f"--tasks {args.tasks}: expected 1..100000")
    lab = inventory_store.load(args.lab_id)
    result = service_client.run(lab.host_url("lb"), tasks=args.tasks)
    for failure in result.failures[:10]:
        print(f"  {failure}", file=sys.stderr)
    print(f"smoke: {result.created}/{args.tasks} tasks created, {result.read_back} read back, "
          f"p95 latency {result.p95_latency_s * 1000:.0f} ms: {'PASS' if result.ok else 'FAIL'}")
    return ExitCode.PASS if result.ok else ExitCode.FAILED


def _add_lab_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=Profile.HA.value, choices=[p.value for p in Profile])
    parser.add_argument("--subnet", default=LabSettings.subnet)
    parser.add_argument("--port-base", type=int, default=LabSettings.port_base)
    parser.add_argument("--down-after-ms", type=int, default=LabSettings.sentinel_down_after_ms)
    parser.add_argument("--failover-timeout-ms", type=int, default=LabSettings.sentinel_failover_timeout_ms)
    parser.add_argument("--cassandra-heap", default=LabSettings.cassandra_heap)
    parser.add_argument("--app-env", action="append", metavar="AGENT360_X=V",
                        help="start the app replicas with this variable (a weaker build, e.g. AGENT360_RETRIES=0)")


def add_lab_commands(commands: argparse._SubParsersAction[Any], parser_class: type[argparse.ArgumentParser]) -> None:
    lab = commands.add_parser("lab", help="the local lab: build | up | status | down")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True, parser_class=parser_class)
    build = lab_commands.add_parser("build", help="build the lab images from package registries")
    build.add_argument("--force", action="store_true", help="rebuild even when the tags exist")
    build.set_defaults(handler=_cmd_lab_build)
    up = lab_commands.add_parser("up", help="start the lab and wait until it is ready")
    _add_lab_options(up)
    up.set_defaults(handler=_cmd_lab_up)
    status = lab_commands.add_parser("status", help="inventory and health of the running lab")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_cmd_lab_status)
    smoke = lab_commands.add_parser("smoke", help="create tasks through the load balancer and read them back")
    smoke.add_argument("--tasks", type=int, default=200)
    smoke.set_defaults(handler=_cmd_lab_smoke)
    down = lab_commands.add_parser("down", help="remove every container of the lab")
    down.set_defaults(handler=_cmd_lab_down)
