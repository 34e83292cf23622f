"""The Kubernetes lab's programs, built from the Go module proxy and cached by version: never rebuilt when present."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kernel.progress import Progress
from lab.build import BuildError
from lab.k8s.versions import COREDNS, GOMOD_DIR, KUBE_ROUTER, KUBERNETES, bin_dir

KUBERNETES_LDFLAGS = (
    "-s -w"
    f" -X k8s.io/component-base/version.gitVersion={KUBERNETES}"
    " -X k8s.io/component-base/version.gitMajor=1"
    f" -X k8s.io/component-base/version.gitMinor={KUBERNETES.split('.')[1]}"
)
"""Without the version, clients cannot parse the server's (`kubectl version` fails)."""


@dataclass(frozen=True)
class GoProgram:
    """One binary: the package to build, in which module directory, and with which link flags."""

    name: str
    package: str
    module_dir: str
    ldflags: str = "-s -w"
    cgo: bool = True


PROGRAMS = (
    *(GoProgram(name, f"k8s.io/kubernetes/cmd/{name}", "kubernetes", KUBERNETES_LDFLAGS)
      for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")),
    GoProgram("etcd", "go.etcd.io/etcd/server/v3", "etcd"),
    GoProgram("kube-router", "./cmd/kube-router", f"module:github.com/cloudnativelabs/kube-router/v2@{KUBE_ROUTER}"),
    GoProgram("coredns", ".", f"module:github.com/coredns/coredns@{COREDNS}", cgo=False),
)


def missing() -> list[str]:
    return [p.name for p in PROGRAMS if not (bin_dir() / p.name).is_file()]


def _go(args: list[str], cwd: Path, cgo: bool = True) -> str:
    wrapper = GOMOD_DIR in cwd.parents
    flags = "-buildvcs=false -mod=mod" if wrapper else "-buildvcs=false"
    env = {**os.environ, "GOFLAGS": flags, "CGO_ENABLED": "1" if cgo else "0"}
    result = subprocess.run(["nice", "-n", "10", "go", *args], cwd=cwd, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-10:]
        raise BuildError(f"go {args[0]} in {cwd} failed: " + " | ".join(tail))
    return result.stdout.strip()


def _module_dir(program: GoProgram) -> Path:
    """A wrapper module of the project, or a module as the proxy serves it (built inside the module cache)."""
    if not program.module_dir.startswith("module:"):
        return GOMOD_DIR / program.module_dir
    module = program.module_dir.removeprefix("module:")
    found = _go(["mod", "download", "-json", module], cwd=GOMOD_DIR / "kubernetes")
    for line in found.splitlines():
        if '"Dir"' in line:
            return Path(line.split('"')[3])
    raise BuildError(f"go mod download {module} named no directory")


def build_program(program: GoProgram, destination: Path) -> None:
    partial = destination.with_suffix(".partial")
    _go(["build", "-p", str(os.cpu_count() or 1), "-trimpath", f"-ldflags={program.ldflags}", "-o", str(partial),
         program.package], cwd=_module_dir(program), cgo=program.cgo)
    partial.rename(destination)


def build_all(progress: Progress, force: bool = False) -> Path:
    """Build every missing program into the version's cache directory; return that directory."""
    target = bin_dir()
    target.mkdir(parents=True, exist_ok=True)
    todo = [p for p in PROGRAMS if force or not (target / p.name).is_file()]
    for index, program in enumerate(todo, start=1):
        started = time.monotonic()
        progress.step(f"building {program.name} ({index}/{len(todo)}; the first Kubernetes build takes minutes)")
        build_program(program, target / program.name)
        progress.step(f"built {program.name} in {time.monotonic() - started:.0f}s")
    if not todo:
        progress.step(f"Kubernetes {KUBERNETES} programs are up to date in {target}")
    return target
