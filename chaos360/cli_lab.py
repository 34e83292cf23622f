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

K8S_PROFILE = "k8s"


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

    progress = Progress(quiet=args.quiet)
    tags = build.build_all(progress, force=args.force)
    if args.profile == K8S_PROFILE:
        from lab.k8s import binaries, images, runner_image

        binaries.build_all(progress, force=args.force)
        tags = {**tags, **images.build_images(progress, force=args.force),
                "runner": runner_image.ensure(progress, force=args.force)}
    for name, tag in tags.items():
        print(f"{name}\t{tag}")
    return ExitCode.PASS


def _cmd_lab_up(args: argparse.Namespace) -> int:
    if args.profile == K8S_PROFILE:
        return _k8s_up(args)
    from kernel import inventory as inventory_store
    from lab import docker_lab

    settings = _lab_settings(args)
    progress = Progress(quiet=args.quiet)
    with run_lock(settings.lab_id):
        refuse_unhealed(settings.lab_id)
        running = inventory_store.find(settings.lab_id)
        if running is not None and running.profile == K8S_PROFILE:
            raise UsageError(f"lab {settings.lab_id} runs the k8s profile; run `chaos360 lab down` first")
        inventory = docker_lab.up(settings, progress)
    lb = inventory.by_role("lb")[0]
    print(f"Agent360 at {inventory.host_url(lb.name)}  ({len(inventory.instances)} instances, "
          f"ready in {progress.elapsed:.1f}s)")
    return ExitCode.PASS


def _k8s_up(args: argparse.Namespace) -> int:
    from kernel import inventory as inventory_store
    from lab.k8s import cluster

    subnet = args.subnet if args.subnet != LabSettings.subnet else cluster.DEFAULT_SUBNET
    progress = Progress(quiet=args.quiet)
    with run_lock(args.lab_id):
        refuse_unhealed(args.lab_id)
        running = inventory_store.find(args.lab_id)
        if running is not None and running.profile != K8S_PROFILE:
            raise UsageError(f"lab {args.lab_id} runs the {running.profile} profile; run `chaos360 lab down` first")
        inventory = cluster.up(args.lab_id, subnet, progress)
    print(f"Kubernetes lab ready: {len(inventory.instances)} nodes, zones {','.join(inventory.zones)}, in "
          f"{progress.elapsed:.1f}s; kubeconfig {inventory.settings['kubeconfig']}")
    return ExitCode.PASS


def _k8s_status(running: Any) -> dict[str, Any]:
    """The cluster's checks, plus what faults left in it (a lab with a zone still cut is not ready)."""
    from lab.k8s import cluster, leftovers
    from lab.k8s.lab_target import open_lab_target

    report = cluster.status(running)
    if report["ready"]:
        found = leftovers.find_leftovers(open_lab_target(running.lab_id))
        report["checks"].append({"name": "faults", "ok": not found,  # type: ignore[attr-defined]
                                 "detail": "; ".join(found) + " (run `chaos360 heal`)" if found else "none left"})
        report["ready"] = not found
    return report


def _cmd_lab_status(args: argparse.Namespace) -> int:
    from kernel import inventory as inventory_store
    from lab import docker_lab

    running = inventory_store.find(args.lab_id)
    if running is not None and running.profile == K8S_PROFILE:
        report = _k8s_status(running)
    else:
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
    from lab.k8s import cluster

    progress = Progress(quiet=args.quiet)
    with run_lock(args.lab_id):
        cluster.down(args.lab_id, progress)
        docker_lab.down(args.lab_id, progress)
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
    parser.add_argument("--profile", default=Profile.HA.value, choices=[*(p.value for p in Profile), K8S_PROFILE],
                        help="ha: the Docker lab over three zones; minimal: one zone; k8s: a Kubernetes cluster")
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
    build.add_argument("--profile", default=Profile.HA.value, choices=[*(p.value for p in Profile), K8S_PROFILE],
                       help="k8s also builds the Kubernetes programs and node images (minutes, once per version)")
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
