"""The Kubernetes lab's images, built without a registry: the node image, pause and CoreDNS.

Pods pull nothing: every image a pod runs is saved to a tar that each node imports into containerd at start.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from kernel.progress import Progress
from lab.build import (
    BuildError,
    cache_dir,
    debootstrap_image,
    digest,
    image_exists,
    run_step,
    tree_parts,
)
from lab.k8s.versions import COREDNS, GOMOD_DIR, KUBERNETES, PAUSE_TAG, bin_dir, k8s_cache

NODE_DIR = Path(__file__).parent / "node"
NODE_PACKAGES = ("containerd", "runc", "containernetworking-plugins", "iptables", "ipset", "conntrack", "socat",
                 "iproute2", "procps", "ca-certificates")
COREDNS_TAG = f"chaos360/coredns:{COREDNS}"
BUSYBOX = Path("/bin/busybox")
"""Debian's busybox-static: a shell, nc, httpd and nslookup in 2 MB, for the lab's own probes between pods."""


def tools_tag() -> str:
    return f"chaos360/k8s-tools:{digest([BUSYBOX.read_bytes() if BUSYBOX.exists() else b''])}"


def node_base_tag() -> str:
    return f"chaos360/k8s-node-base:{digest(NODE_PACKAGES)}"


def node_tag() -> str:
    return f"chaos360/k8s-node:{digest([node_base_tag(), *tree_parts(NODE_DIR)])}"


def _pause_source() -> Path:
    found = subprocess.run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{KUBERNETES}"], cwd=GOMOD_DIR /
                           "kubernetes", capture_output=True, text=True, check=False)
    if found.returncode != 0:
        raise BuildError(f"go mod download k8s.io/kubernetes failed: {found.stderr.strip()[-300:]}")
    return Path(json.loads(found.stdout)["Dir"]) / "build" / "pause" / "linux" / "pause.c"


def _scratch_image(tag: str, work: Path, binary: Path, entrypoint: str, user: str | None = None) -> None:
    context = work / f"context-{tag.split('/')[-1].replace(':', '-')}"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    shutil.copy(binary, context / binary.name)
    lines = ["FROM scratch", f"COPY {binary.name} /{binary.name}", *([f"USER {user}"] if user else []),
             f'ENTRYPOINT ["/{binary.name}"]']
    (context / "Dockerfile").write_text("\n".join(lines) + "\n")
    run_step(["docker", "build", "-q", "--label", "chaos360.image=k8s", "-t", tag, str(context)])
    shutil.rmtree(context)


def _build_pause(work: Path) -> None:
    binary = work / "pause"
    run_step(["gcc", "-Os", "-static", "-o", str(binary), str(_pause_source())])
    _scratch_image(PAUSE_TAG, work, binary, "/pause", user="65535:65535")


def _build_coredns(work: Path) -> None:
    _scratch_image(COREDNS_TAG, work, bin_dir() / "coredns", "/coredns")


def _build_tools(work: Path) -> None:
    if not BUSYBOX.exists():
        raise BuildError(f"{BUSYBOX} is missing: install Debian's busybox-static (scripts/setup.sh does)")
    context = work / "context-k8s-tools"
    shutil.rmtree(context, ignore_errors=True)
    (context / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, context / "bin" / "busybox")
    shutil.copy(BUSYBOX, context / "bin" / "sh")
    (context / "Dockerfile").write_text(
        "FROM scratch\nCOPY bin/ /bin/\nRUN /bin/busybox --install -s /bin && mkdir -p /www /tmp\n"
        'CMD ["/bin/sh"]\n')
    run_step(["docker", "build", "-q", "--label", "chaos360.image=k8s", "-t", tools_tag(), str(context)])
    shutil.rmtree(context)


def _build_node(work: Path) -> None:
    if not image_exists(node_base_tag()):
        debootstrap_image(node_base_tag(), work, NODE_PACKAGES, "k8s-node-base")
    run_step(["docker", "build", "-q", "--build-arg", f"BASE={node_base_tag()}", "--label",
              "chaos360.image=k8s-node", "-t", node_tag(), str(NODE_DIR)])


def build_images(progress: Progress, force: bool = False) -> dict[str, str]:
    """Build the node, pause and CoreDNS images unless present; return name -> tag."""
    work = cache_dir() / "build"
    work.mkdir(parents=True, exist_ok=True)
    steps = ((node_tag(), _build_node), (PAUSE_TAG, _build_pause), (COREDNS_TAG, _build_coredns),
             (tools_tag(), _build_tools))
    for tag, build in steps:
        if image_exists(tag) and not force:
            progress.step(f"image {tag} is up to date")
            continue
        started = time.monotonic()
        progress.step(f"building {tag} ...")
        build(work)
        progress.step(f"built {tag} in {time.monotonic() - started:.0f}s")
    return {"k8s-node": node_tag(), "pause": PAUSE_TAG, "coredns": COREDNS_TAG, "k8s-tools": tools_tag()}


def image_id(tag: str) -> str:
    found = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", tag], capture_output=True, text=True,
                           check=False)
    if found.returncode != 0:
        raise BuildError(f"image {tag} is missing: run `chaos360 lab build --profile k8s`")
    return found.stdout.strip().removeprefix("sha256:")[:12]


def saved_images(bundles: dict[str, list[str]]) -> Path:
    """A directory of `docker save` archives, one per bundle (images of a bundle share their layers once), named by
    the images' ids so that a rebuilt image is saved again and a stale archive removed."""
    directory = k8s_cache() / "images"
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {f"{name}-{digest([image_id(tag) for tag in tags])}.tar": tags for name, tags in bundles.items()}
    for stale in directory.glob("*.tar"):
        if stale.name not in wanted:
            stale.unlink()
    for name, tags in wanted.items():
        if not (directory / name).exists():
            partial = directory / f"{name}.partial"
            run_step(["docker", "save", "-o", str(partial), *tags])
            partial.rename(directory / name)
    return directory
