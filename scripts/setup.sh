#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian machine: packages, Docker engine, venv, project, lab images, Kubernetes lab.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

need_packages=()
for pair in dockerd:docker.io debootstrap:debootstrap iptables:iptables mvn:maven java:openjdk-17-jdk-headless \
    chromium:chromium redis-check-rdb:redis-tools \
    busybox:busybox-static openssl:openssl gcc:gcc; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need_packages+=("${pair##*:}")
done
python3 -c 'import ensurepip, venv' 2>/dev/null || need_packages+=(python3-venv)
if ((${#need_packages[@]})); then
  log "installing Debian packages: ${need_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 || { log "Go is required (toxiproxy is built from the Go module proxy)"; exit 1; }

if ! docker info >/dev/null 2>&1; then
  log "starting the Docker daemon"
  pgrep -x dockerd >/dev/null || rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
  setsid nohup dockerd </dev/null >/var/log/chaos360-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start: see /var/log/chaos360-dockerd.log"; tail -5 /var/log/chaos360-dockerd.log >&2; exit 1; }
fi

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
log "installing chaos360 into .venv"
.venv/bin/pip install -q -e ".[dev]"

log "building lab images and the Kubernetes lab's programs (cached by input hash and version)"
.venv/bin/chaos360 lab build --profile k8s
log "done"
