"""A signal that lands inside an import (CI saw it: SIGINT 0.6 s after spawn, while `docker` imported `requests`)
must not break the heal that follows: the submodules the failed import left behind are forgotten, so the package
imports afresh with them attached."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.interrupts import forget_orphaned_modules

PACKAGE = "chaos360_halfway_pkg"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / PACKAGE
    root.mkdir()
    (root / "errors.py").write_text("class Failure(Exception):\n    pass\n")
    (root / "__init__.py").write_text("from .errors import Failure\nraise KeyboardInterrupt\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        sys.modules.pop(name)


def _interrupted_import(package: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        importlib.import_module(PACKAGE)
    (package / "__init__.py").write_text("from .errors import Failure\n")
    importlib.invalidate_caches()


def test_without_forgetting_the_package_imports_again_without_its_submodule(package: Path) -> None:
    _interrupted_import(package)
    assert not hasattr(importlib.import_module(PACKAGE), "errors")


def test_orphaned_submodules_are_forgotten_and_the_package_imports_whole(package: Path) -> None:
    _interrupted_import(package)
    assert forget_orphaned_modules() == [f"{PACKAGE}.errors"]
    assert importlib.import_module(PACKAGE).errors.Failure.__name__ == "Failure"


def test_nothing_whole_is_forgotten() -> None:
    assert forget_orphaned_modules() == []
