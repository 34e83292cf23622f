"""Entry of `chaos360` and `python -m chaos360`: a signal that arrives while the CLI is still loading is held until
its handlers are in place, then handled like any other (heal, one line, exit 2), never as a traceback."""

import signal
import sys
from types import FrameType

_held: list[int] = []


def _hold(signum: int, _frame: FrameType | None) -> None:
    _held.append(signum)


def main() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _hold)
    from chaos360.cli import main as cli_main

    return cli_main(held_signal=_held[0] if _held else None)


if __name__ == "__main__":
    sys.exit(main())
