"""One line per problem in an experiment file: `<file>: <field path>: <what was expected>`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from kernel.errors import UsageError

MAX_SHOWN = 60
MAX_LINE = 600
EXPECTED = {
    "missing": "missing; it is required",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


class Invalid(Exception):
    """A problem found in an experiment, at `field` (None: the file itself)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def line(self) -> str:
        return one_line(f"{self.field}: {self.message}" if self.field else self.message)

    def for_file(self, path: Path) -> UsageError:
        return UsageError(one_line(f"{shown_path(path)}: {self.line()}"))


def one_line(text: str) -> str:
    """Control, bidi and other unprintable characters escaped, so a message stays one honest line."""
    flat = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 3] + "..."


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def shown_path(path: Path) -> str:
    text = str(path)
    return text if text.isprintable() and len(text) <= 200 else shown(text)


def field_path(loc: Sequence[int | str]) -> str:
    """('method', 1, 'provider', 'arguments', 'count') -> method[1].provider.arguments.count"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{shown(part)}]"
    return text or "experiment"


def from_validation(error: ValidationError, prefix: Sequence[int | str] = ()) -> Invalid:
    """The first error pydantic found, as a field path and a message saying what was expected."""
    first = error.errors(include_url=False)[0]
    loc, kind = list(first["loc"]), first["type"]
    message = EXPECTED.get(kind, first["msg"].removeprefix("Value error, "))
    if loc and loc[-1] == "[key]":
        loc, message = loc[:-2], "keys must be strings"
    if kind not in ("value_error", "missing"):
        message += f", got {shown(first.get('input'))}"
    return Invalid(field_path([*prefix, *loc]), message)


def kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    names = {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "a mapping"}
    return names.get(type(value), f"a {type(value).__name__}")
