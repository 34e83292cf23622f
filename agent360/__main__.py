"""Run the service: `python -m agent360`."""

from __future__ import annotations

import json
import logging
import os
import sys

from aiohttp import web

from agent360.app import create_app
from agent360.config import load_config

log = logging.getLogger("agent360")

SHUTDOWN_TIMEOUT_S = 5.0


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("AGENT360_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("cassandra").setLevel(logging.WARNING)
    try:
        config = load_config()
    except ValueError as error:
        log.error("bad configuration: %s", error)
        return 2
    log.info("agent360 starting: %s", json.dumps(config.describe(), sort_keys=True))
    web.run_app(create_app(config), port=config.port, print=None, access_log=None,
                shutdown_timeout=SHUTDOWN_TIMEOUT_S, handle_signals=True)
    log.info("agent360 stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
