"""The runner image: chaos360 itself, its experiments and its dependencies, to run inside a cluster (the Job for game
days, the CronJob for drills). Built like the lab's images: from the base image and wheels from the package index.

Two inputs decide its tag: the dependencies (pinned to the versions this checkout's environment runs, so the image
behaves as the tests did) and the project's source. The dependency layer is Docker's cache: a source change rebuilds
only the small layer on top.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from kernel.progress import Progress
from lab import build
from lab.build import IMAGE_PYTHON_EXTRAS, IMAGES_DIR, cache_dir, digest, image_exists, run_step

PROJECT_DIR = Path(__file__).resolve().parents[2]
PACKAGES = ("chaos360", "kernel", "lab", "agent360", "actions", "probes", "loadtests", "reports")
SOURCE_SUFFIXES = frozenset({".py", ".yaml", ".yml", ".html", ".tmpl", ".cfg", ".sh", ".xml", ".txt", ".properties",
                             ".json", ".conf"})
GENERATED = frozenset({"runs", "screenshots", "__pycache__", "gomod"})
"""Directories of run output, caches and the Go build inputs of the lab: not part of what the runner runs."""
STABLE_TAG = "chaos360/runner:k8s"


def _installed_pins() -> list[str]:
    """`name==version` of every distribution in this environment: the image installs the versions tested here."""
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True,
                            text=True, check=True).stdout
    return sorted(line for line in frozen.splitlines() if re.match(r"^[A-Za-z0-9_.-]+==", line)
                  and not line.lower().startswith("chaos360=="))


def dependencies() -> list[str]:
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *IMAGE_PYTHON_EXTRAS]


def source_files() -> list[Path]:
    found = [PROJECT_DIR / "pyproject.toml", *sorted((PROJECT_DIR / "experiments").glob("*.yaml"))]
    for package in PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*")):
            relative = path.relative_to(PROJECT_DIR).parts
            source = path.suffix in SOURCE_SUFFIXES or path.name == "Dockerfile"
            if path.is_file() and source and not GENERATED.intersection(relative):
                found.append(path)
    return found


def _deps_digest(pins: list[str]) -> str:
    return digest([*dependencies(), *pins])


def tag(pins: list[str] | None = None) -> str:
    pins = _installed_pins() if pins is None else pins
    sources = [part for path in source_files() for part in (str(path.relative_to(PROJECT_DIR)), path.read_bytes())]
    return f"chaos360/runner:{digest([build.image_tags()['base'], _deps_digest(pins), *sources])}"


def _wheels(pins: list[str]) -> Path:
    """The dependencies as wheels (pure-Python sdists built here), cached by what decides them."""
    wheels = cache_dir() / "build" / f"runner-wheels-{_deps_digest(pins)}"
    if (wheels / "requirements.txt").exists():
        return wheels
    partial = wheels.with_name(wheels.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "constraints.txt").write_text("\n".join(pins) + "\n")
    run_step([sys.executable, "-m", "pip", "-q", "wheel", "-w", str(partial), "-c", str(partial / "constraints.txt"),
              *dependencies()])
    (partial / "requirements.txt").write_text("\n".join(dependencies()) + "\n")
    shutil.rmtree(wheels, ignore_errors=True)
    partial.rename(wheels)
    return wheels


def _context(work: Path, pins: list[str]) -> Path:
    context = work / "context-runner"
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(IMAGES_DIR / "runner", context)
    shutil.copytree(_wheels(pins), context / "wheels", ignore=shutil.ignore_patterns("constraints.txt"))
    project = context / "project"
    (project / "experiments").mkdir(parents=True)
    for path in (PROJECT_DIR / "experiments").glob("*.yaml"):
        shutil.copy(path, project / "experiments" / path.name)
    run_step([sys.executable, "-m", "pip", "-q", "wheel", "--no-deps", "-w", str(project), str(PROJECT_DIR)])
    return context


def ensure(progress: Progress, force: bool = False) -> str:
    """Build the runner image unless its tag exists; give it its stable name (the manifests' `chaos360/runner:k8s`)."""
    pins = _installed_pins()
    wanted = tag(pins)
    if image_exists(wanted) and not force:
        progress.step(f"image {wanted} is up to date")
    else:
        base = build.image_tags()["base"]
        if not image_exists(base):
            raise build.BuildError(f"image {base} is missing: run `chaos360 lab build --profile k8s`")
        started = time.monotonic()
        progress.step(f"building {wanted} ...")
        work = cache_dir() / "build"
        context = _context(work, pins)
        run_step(["docker", "build", "-q", "--build-arg", f"BASE={base}", "--label", f"{build.IMAGE_LABEL}=runner",
                  "-t", wanted, str(context)])
        shutil.rmtree(context)
        progress.step(f"built {wanted} in {time.monotonic() - started:.0f}s")
    run_step(["docker", "tag", wanted, STABLE_TAG])
    return wanted
