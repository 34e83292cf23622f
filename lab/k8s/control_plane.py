"""The control plane as host processes: etcd, kube-apiserver, kube-controller-manager, kube-scheduler.

Each runs in its own session (it outlives `chaos360 lab up`), logs to the lab's directory and is found again by its
pid file and command line, so `up` is idempotent and `down` stops exactly what `up` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import LabError

ETCD_CLIENT_PORT = 12379
ETCD_PEER_PORT = 12380
API_PORT = 6443
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]


def components(bin_dir: Path, home: Path, api_address: str) -> list[Component]:
    pki = home / "pki"
    etcd_url = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"
    etcd_peer = f"http://127.0.0.1:{ETCD_PEER_PORT}"
    return [
        Component("etcd", [
            str(bin_dir / "etcd"), "--name", "chaos360", "--data-dir", str(home / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", etcd_peer, "--initial-advertise-peer-urls", etcd_peer,
            "--initial-cluster", f"chaos360={etcd_peer}",
        ]),
        Component("kube-apiserver", [
            str(bin_dir / "kube-apiserver"), f"--etcd-servers={etcd_url}",
            f"--bind-address={api_address}", f"--secure-port={API_PORT}", f"--advertise-address={api_address}",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--allow-privileged=true",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            f"--client-ca-file={pki}/ca.crt", f"--tls-cert-file={pki}/apiserver.crt",
            f"--tls-private-key-file={pki}/apiserver.key",
            f"--kubelet-client-certificate={pki}/apiserver-kubelet-client.crt",
            f"--kubelet-client-key={pki}/apiserver-kubelet-client.key",
            f"--kubelet-certificate-authority={pki}/ca.crt", "--kubelet-preferred-address-types=InternalIP",
            f"--service-account-key-file={pki}/sa.pub", f"--service-account-signing-key-file={pki}/sa.key",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        ]),
        Component("kube-controller-manager", [
            str(bin_dir / "kube-controller-manager"), *_kubeconfig_flags(pki / "kube-controller-manager.kubeconfig"),
            "--bind-address=127.0.0.1", "--allocate-node-cidrs=true", f"--cluster-cidr={POD_CIDR}",
            "--node-cidr-mask-size=24", f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--cluster-signing-cert-file={pki}/ca.crt", f"--cluster-signing-key-file={pki}/ca.key",
            f"--root-ca-file={pki}/ca.crt", f"--service-account-private-key-file={pki}/sa.key",
            "--use-service-account-credentials=true", "--node-monitor-grace-period=20s",
        ]),
        Component("kube-scheduler", [
            str(bin_dir / "kube-scheduler"), *_kubeconfig_flags(pki / "kube-scheduler.kubeconfig"),
            "--bind-address=127.0.0.1",
        ]),
    ]


def _kubeconfig_flags(path: Path) -> list[str]:
    return [f"--kubeconfig={path}", f"--authentication-kubeconfig={path}", f"--authorization-kubeconfig={path}"]


def _pid_file(home: Path, name: str) -> Path:
    return home / "run" / f"{name}.pid"


def running_pid(home: Path, component: Component) -> int | None:
    """The component's process id if the recorded process is alive and still runs that program."""
    try:
        pid = int(_pid_file(home, component.name).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except (OSError, ValueError):
        return None
    return pid if cmdline == component.command[0] else None


def start(home: Path, component: Component) -> int:
    """Start the component unless it runs; returns its pid."""
    if (pid := running_pid(home, component)) is not None:
        return pid
    (home / "run").mkdir(parents=True, exist_ok=True)
    (home / "logs").mkdir(parents=True, exist_ok=True)
    with open(home / "logs" / f"{component.name}.log", "ab") as log:
        process = subprocess.Popen(["nice", "-n", "5", *component.command], stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    _pid_file(home, component.name).write_text(str(process.pid))
    time.sleep(0.3)
    if process.poll() is not None:
        tail = (home / "logs" / f"{component.name}.log").read_text(errors="replace").strip().splitlines()[-3:]
        raise LabError(f"{component.name} exited at start ({process.returncode}): {' | '.join(tail)}")
    return process.pid


def stop(home: Path, component: Component, timeout_s: float = 5.0) -> bool:
    """Stop the component (SIGTERM, then SIGKILL); returns whether it was running."""
    pid = running_pid(home, component)
    if pid is None:
        _pid_file(home, component.name).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and running_pid(home, component) is not None:
        _reap(pid)
        time.sleep(0.2)
    if running_pid(home, component) is not None:
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        _reap(pid)
    _pid_file(home, component.name).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
