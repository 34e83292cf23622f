"""Reading an experiment file defensively: a regular .yaml/.yml/.json file of at most 1 MB of UTF-8, bounded in size.

Composing YAML stops past MAX_NODES nodes or MAX_DEPTH levels. Aliases are shared by the loader, so a billion-laughs
file loads fast but expands when walked, and merge keys (`<<: [*a, *a]`) expand while loading: the node graph is
measured as if expanded before anything is constructed.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from kernel.objectives import _UniqueKeyLoader, _yaml_problem
from kernel.problems import Invalid

MAX_BYTES = 1_000_000
MAX_NODES = 20_000
MAX_DEPTH = 32
SUFFIXES = (".yaml", ".yml", ".json")


def read_experiment(path: Path) -> object:
    """The parsed document; raises Invalid (field None) for any problem with the file itself."""
    _check_path(path)
    text = _decode(_read_bytes(path))
    if path.resolve().suffix == ".json":
        return _parse_json(text)
    return _parse_yaml(text)


def _check_path(path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        raise Invalid(None, "no such experiment file")
    if path.is_symlink() and not path.exists():
        raise Invalid(None, "is a broken symbolic link")
    target = path.resolve()
    if not path.is_file():
        raise Invalid(None, "is not a regular file (an experiment is a .yaml, .yml or .json file)")
    if path.suffix not in SUFFIXES or target.suffix not in SUFFIXES:
        shown = f"links to {target}, which " if path.is_symlink() else ""
        raise Invalid(None, f"{shown}is not an experiment file: expected a .yaml, .yml or .json file")


def _read_bytes(path: Path) -> bytes:
    """Checked again on the open file itself, in case the path changed since it was looked at."""
    try:
        descriptor = os.open(path.resolve(), os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise Invalid(None, "is not a regular file (an experiment is a .yaml, .yml or .json file)")
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise Invalid(None, f"cannot read it: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise Invalid(None, f"larger than {MAX_BYTES // 1_000_000} MB; an experiment file is a few kB")
    return data


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(None, f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})") from None
    if "\x00" in text:
        raise Invalid(None, f"not text: NUL byte at offset {text.index(chr(0))}")
    return text


def _parse_json(text: str) -> object:
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs)
    except RecursionError:
        raise Invalid(None, f"invalid JSON: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise Invalid(None, f"invalid JSON: {' '.join(str(error).split())}") from None
    _check_size(data)
    return data


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {key!r}")
        found[key] = value
    return found


def _check_size(data: object) -> None:
    stack: list[tuple[object, int]] = [(data, 0)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH:
            raise Invalid(None, f"invalid JSON: nested deeper than {MAX_DEPTH} levels")
        if seen > MAX_NODES:
            raise Invalid(None, f"invalid JSON: more than {MAX_NODES} values")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)


class _BoundedLoader(_UniqueKeyLoader):
    """Stops composing past MAX_NODES nodes or MAX_DEPTH levels, so a large or deep file is refused in time."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self._nodes += 1
        self._depth += 1
        try:
            if self._nodes > MAX_NODES:
                raise Invalid(None, f"invalid YAML: more than {MAX_NODES} values; an experiment has a few hundred")
            if self._depth > MAX_DEPTH:
                raise Invalid(None, f"invalid YAML: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1


def _parse_yaml(text: str) -> object:
    try:
        loader = _BoundedLoader(text)
    except yaml.YAMLError as error:
        raise Invalid(None, _yaml_problem(error)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _NodeBudget().measure(node, 0)
        return loader.construct_document(node)
    except RecursionError:
        raise Invalid(None, f"invalid YAML: nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as error:
        raise Invalid(None, _yaml_problem(error)) from None
    except ValueError as error:
        raise Invalid(None, f"invalid YAML: {' '.join(str(error).split())[:200]}") from None
    finally:
        loader.dispose()


class _NodeBudget:
    """Expanded size of a YAML node graph (aliases counted each time they are used), without expanding it."""

    def __init__(self) -> None:
        self._sizes: dict[int, int] = {}
        self._open: set[int] = set()

    def measure(self, node: yaml.Node, depth: int) -> int:
        if id(node) in self._sizes:
            return self._sizes[id(node)]
        if depth > MAX_DEPTH:
            raise Invalid(None, f"invalid YAML: nested deeper than {MAX_DEPTH} levels")
        if id(node) in self._open:
            raise Invalid(None, "invalid YAML: an alias refers to a node that contains it")
        self._open.add(id(node))
        size = 1 + sum(self.measure(child, depth + 1) for child in _children(node))
        self._open.discard(id(node))
        if size > MAX_NODES:
            raise Invalid(None, f"invalid YAML: its aliases expand to more than {MAX_NODES} values")
        self._sizes[id(node)] = size
        return size


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
