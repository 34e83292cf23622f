#!/usr/bin/env bash
# The main job on the local lab until the gate lands: a smoke run through the load balancer.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/chaos360 lab smoke "$@"
