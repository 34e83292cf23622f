"""Offline image builds: every lab image comes from package registries, tagged by a hash of its inputs."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import UsageError
from kernel.progress import Progress

IMAGES_DIR = Path(__file__).parent / "images"
AGENT360_DIR = Path(__file__).parent.parent / "agent360"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("CHAOS360_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = (
    "redis-server",
    "redis-sentinel",
    "haproxy",
    "prometheus",
    "openjdk-17-jre-headless",
    "python3",
    "python3-venv",
    "iproute2",
    "iptables",
    "procps",
    "ca-certificates",
    "curl",
)
TOXIPROXY_MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0"
TRIMMED_PATHS = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")
IMAGE_LABEL = "chaos360.image"
IMAGE_PYTHON_EXTRAS = ("async-timeout>=4.0.3",)
"""Debian's Python is 3.11.2; redis needs this below 3.11.3, which the host's newer 3.11 hides from pip download."""


def cache_dir() -> Path:
    path = Path(os.environ.get("CHAOS360_CACHE", Path.home() / ".cache" / "chaos360"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(parts: Iterable[str | bytes]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()[:12]


def tree_parts(root: Path) -> list[str | bytes]:
    parts: list[str | bytes] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
            parts += [str(path.relative_to(root)), path.read_bytes()]
    return parts


def run_step(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-15:]
        raise BuildError(f"{command[0]} failed ({result.returncode}): " + " | ".join(tail))


class BuildError(RuntimeError):
    """An image could not be built; the message names the step."""


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False).returncode == 0


@dataclass(frozen=True)
class ImageSpec:
    """One lab image: a name, the inputs that decide its tag, and how to build it."""

    name: str
    inputs: Callable[[], list[str | bytes]]
    build: Callable[[str, Path], None]
    base: str | None = None

    def tag(self, base_tag: str | None) -> str:
        return f"chaos360/{self.name}:{digest([base_tag or '', *self.inputs()])}"


def debootstrap_image(tag: str, work: Path, packages: Iterable[str], label: str) -> None:
    """A minimal Debian root filesystem with `packages`, imported as image `tag`."""
    rootfs = work / f"rootfs-{label}"
    if rootfs.exists():
        shutil.rmtree(rootfs)
    include = ",".join(packages)
    run_step(["debootstrap", "--variant=minbase", f"--include={include}", DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR])
    for relative in TRIMMED_PATHS:
        target = rootfs / relative
        if target.exists():
            shutil.rmtree(target)
            target.mkdir(parents=True)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    changes = ["-c", "ENV LANG=C.UTF-8", "-c", 'CMD ["/bin/bash"]', "-c", f"LABEL {IMAGE_LABEL}={label}"]
    imported = subprocess.run(
        ["docker", "import", *changes, "-", tag], stdin=tar.stdout, capture_output=True, text=True, check=False
    )
    tar.wait()
    shutil.rmtree(rootfs)
    if imported.returncode != 0 or tar.returncode != 0:
        raise BuildError(f"docker import failed: {imported.stderr.strip()}")


def _build_base(tag: str, work: Path) -> None:
    debootstrap_image(tag, work, BASE_PACKAGES, "base")


def _docker_build(name: str, tag: str, base_tag: str, context: Path) -> None:
    run_step(
        ["docker", "build", "-q", "--build-arg", f"BASE={base_tag}", "--label", f"{IMAGE_LABEL}={name}",
         "-t", tag, str(context)]
    )


def _fresh_context(name: str, work: Path) -> Path:
    context = work / f"context-{name}"
    if context.exists():
        shutil.rmtree(context)
    shutil.copytree(IMAGES_DIR / name, context)
    return context


def _prepare_cassandra(context: Path) -> None:
    run_step(["mvn", "-q", "-B", "-f", str(context / "pom.xml"), "dependency:copy-dependencies",
          f"-DoutputDirectory={context / 'lib'}", "-DincludeScope=runtime"])


def _prepare_toxiproxy(context: Path) -> None:
    gobin = context / "gobin"
    run_step(["go", "install", "-trimpath", TOXIPROXY_MODULE],
         env={"GOBIN": str(gobin), "CGO_ENABLED": "0", "GOTOOLCHAIN": "auto"})
    (gobin / "server").rename(context / "toxiproxy-server")
    shutil.rmtree(gobin)


def _agent360_requirements() -> list[str]:
    lines = (AGENT360_DIR / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _prepare_app(context: Path) -> None:
    source = context / "src"
    shutil.copytree(AGENT360_DIR, source / "agent360", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    requirements = _agent360_requirements()
    template = (context / "pyproject.toml.tmpl").read_text()
    dependencies = ", ".join(f'"{r}"' for r in requirements)
    (source / "pyproject.toml").write_text(template.replace("{dependencies}", dependencies))
    wheels = context / "wheels"
    pip = [sys.executable, "-m", "pip", "-q"]
    run_step([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)])
    run_step([*pip, "download", "-d", str(wheels), "--only-binary=:all:", "--python-version", "3.11",
          "--implementation", "cp", "--platform", "manylinux2014_x86_64", "--platform",
          "manylinux_2_28_x86_64", "--platform", "any", *requirements, *IMAGE_PYTHON_EXTRAS])


def _derived(name: str, prepare: Callable[[Path], None]) -> Callable[[str, Path], None]:
    def build(tag: str, work: Path) -> None:
        base_tag = os.environ["CHAOS360_BASE_TAG"]
        context = _fresh_context(name, work)
        prepare(context)
        _docker_build(name, tag, base_tag, context)
        shutil.rmtree(context)

    return build


SPECS = (
    ImageSpec("base", lambda: [DEBIAN_SUITE, *BASE_PACKAGES], _build_base),
    ImageSpec("cassandra", lambda: tree_parts(IMAGES_DIR / "cassandra"), _derived("cassandra", _prepare_cassandra),
              base="base"),
    ImageSpec("toxiproxy", lambda: [TOXIPROXY_MODULE, *tree_parts(IMAGES_DIR / "toxiproxy")],
              _derived("toxiproxy", _prepare_toxiproxy), base="base"),
    ImageSpec("app", lambda: [*tree_parts(IMAGES_DIR / "app"), *tree_parts(AGENT360_DIR)],
              _derived("app", _prepare_app), base="base"),
)


def image_tags() -> dict[str, str]:
    """The tag each image has for the current inputs, whether built or not."""
    base_tag = SPECS[0].tag(None)
    return {spec.name: spec.tag(base_tag if spec.base else None) for spec in SPECS}


ROLE_IMAGES = {"app": "app", "lb": "base", "redis": "base", "sentinel": "base", "cassandra": "cassandra",
               "toxiproxy": "toxiproxy", "prometheus": "base"}


def role_images() -> dict[str, str]:
    """The image each role runs: the lab's own build, or `CHAOS360_IMAGE_<ROLE>` (an upstream image) instead."""
    tags = image_tags()
    return {
        role: os.environ.get(f"CHAOS360_IMAGE_{role.upper()}") or tags[image]
        for role, image in ROLE_IMAGES.items()
    }


def _check_tools(names: Iterable[str]) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise UsageError(f"image build needs {', '.join(missing)} on PATH; run scripts/setup.sh first")


def build_all(progress: Progress, force: bool = False) -> dict[str, str]:
    """Build every image whose tag is missing; return name -> tag."""
    tags = image_tags()
    os.environ["CHAOS360_BASE_TAG"] = tags["base"]
    todo = [spec for spec in SPECS if force or not image_exists(tags[spec.name])]
    if todo:
        _check_tools(["docker", "debootstrap", "mvn", "go"])
    work = cache_dir() / "build"
    work.mkdir(exist_ok=True)
    for spec in SPECS:
        if spec not in todo:
            progress.step(f"image {tags[spec.name]} is up to date")
            continue
        started = time.monotonic()
        progress.step(f"building {tags[spec.name]} ...")
        spec.build(tags[spec.name], work)
        progress.step(f"built {tags[spec.name]} in {time.monotonic() - started:.0f}s")
    return tags
