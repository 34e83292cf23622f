"""Errors the CLI turns into one clear line and an exit code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    PASS = 0
    FAILED = 1
    UNKNOWN = 2
    HARNESS_ERROR = 3
    USAGE_ERROR = 4


class Chaos360Error(Exception):
    """Base of every error that the CLI reports as a single line."""

    exit_code = ExitCode.HARNESS_ERROR


class UsageError(Chaos360Error):
    """The user asked for something invalid: bad input, missing prerequisite, taken port."""

    exit_code = ExitCode.USAGE_ERROR


class LabError(Chaos360Error):
    """The lab could not be brought to the requested state."""

    exit_code = ExitCode.HARNESS_ERROR
