"""Secrets stay secret: every value that is a credential is masked in whatever chaos360 writes.

A value is a secret when it comes from an environment variable, a configuration key or a secret file whose name
says so (password, secret, token, api key, credential, private key), or from an experiment's `secrets` block.
`NAME_FILE=/path` means the secret NAME is the content of that file.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|api_?key|credential|private_?key", re.IGNORECASE)
MASK = "***"
MIN_LENGTH = 4
MAX_SECRET_FILE_BYTES = 64 * 1024

_values: set[str] = set()
_lock = threading.Lock()


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def _file_value(path: str) -> str | None:
    try:
        data = Path(path).read_bytes()[:MAX_SECRET_FILE_BYTES]
    except OSError:
        return None
    return data.decode(errors="replace").strip()


def from_environment(environ: Mapping[str, str]) -> set[str]:
    found = set()
    for name, value in environ.items():
        if not is_secret_name(name):
            continue
        found.add(value)
        if name.upper().endswith("_FILE"):
            found.add(_file_value(value) or "")
    return found


def _resolve(value: object, environ: Mapping[str, str]) -> list[str]:
    """A configuration or secret value: inline, or Chaos Toolkit's {type: env, key: NAME}."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and value.get("type") == "env" and isinstance(value.get("key"), str):
        return [environ.get(value["key"], ""), str(value.get("default", ""))]
    return []


def _leaves(tree: object) -> list[object]:
    if isinstance(tree, dict) and tree.get("type") != "env":
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    return [tree]


def from_experiment(experiment: Mapping[str, Any], environ: Mapping[str, str]) -> set[str]:
    found: set[str] = set()
    configuration = experiment.get("configuration")
    if isinstance(configuration, dict):
        for key, value in configuration.items():
            if is_secret_name(str(key)):
                found.update(_resolve(value, environ))
    for leaf in _leaves(experiment.get("secrets") or {}):
        found.update(_resolve(leaf, environ))
    return found


def register(values: set[str]) -> None:
    """Each secret as it is and as it appears inside a JSON string (quotes and backslashes escaped)."""
    kept = {v for v in values if len(v) >= MIN_LENGTH}
    with _lock:
        _values.update(kept | {json.dumps(v)[1:-1] for v in kept})


def register_run(experiment: Mapping[str, Any] | None = None) -> None:
    """The secrets of this process's environment and of the experiment about to run."""
    register(from_environment(os.environ) | from_experiment(experiment or {}, os.environ))


def text(value: str) -> str:
    """The text with every registered secret masked, longest first (a secret may contain another)."""
    with _lock:
        secrets = sorted(_values, key=len, reverse=True)
    for secret in secrets:
        if secret in value:
            value = value.replace(secret, MASK)
    return value


def forget() -> None:
    with _lock:
        _values.clear()
