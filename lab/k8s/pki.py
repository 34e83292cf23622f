"""The Kubernetes lab's certificates and kubeconfigs, made once per lab with openssl.

Kubeconfigs embed their certificates, so the same file works on the host and inside a node container.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from kernel.errors import LabError

CA_NAME = "chaos360-k8s-ca"
SERVICE_IP = "10.96.0.1"
DAYS = 825


@dataclass(frozen=True)
class Identity:
    """One certificate: file stem, common name, organisation (a group) and, for servers, subject alt names."""

    stem: str
    common_name: str
    organisation: str = ""
    alt_names: tuple[str, ...] = ()


def identities(api_address: str, nodes: dict[str, str]) -> list[Identity]:
    api_names = ("DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
                 "DNS:kubernetes.default.svc.cluster.local", "DNS:localhost", "IP:127.0.0.1", f"IP:{SERVICE_IP}",
                 f"IP:{api_address}")
    found = [
        Identity("apiserver", "kube-apiserver", alt_names=api_names),
        Identity("admin", "chaos360-admin", "system:masters"),
        Identity("kube-controller-manager", "system:kube-controller-manager"),
        Identity("kube-scheduler", "system:kube-scheduler"),
        Identity("kube-proxy", "system:kube-proxy"),
        Identity("kube-router", "chaos360-kube-router", "system:masters"),
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
    ]
    for node, address in nodes.items():
        found.append(Identity(node, f"system:node:{node}", "system:nodes"))
        found.append(Identity(f"{node}-serving", f"system:node:{node}", "system:nodes", (f"DNS:{node}",
                                                                                        f"IP:{address}")))
    return found


def _openssl(args: list[str], cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabError(f"openssl {args[0]} failed: {result.stderr.strip()[-300:]}")


def _sign(identity: Identity, directory: Path) -> None:
    subject = f"/O={identity.organisation}/CN={identity.common_name}" if identity.organisation \
        else f"/CN={identity.common_name}"
    stem = identity.stem
    _openssl(["genrsa", "-out", f"{stem}.key", "2048"], directory)
    _openssl(["req", "-new", "-key", f"{stem}.key", "-subj", subject, "-out", f"{stem}.csr"], directory)
    usage = "serverAuth,clientAuth" if identity.alt_names else "clientAuth"
    extensions = f"extendedKeyUsage={usage}\n"
    if identity.alt_names:
        extensions += f"subjectAltName={','.join(identity.alt_names)}\n"
    (directory / f"{stem}.ext").write_text(extensions)
    _openssl(["x509", "-req", "-in", f"{stem}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
              "-days", str(DAYS), "-extfile", f"{stem}.ext", "-out", f"{stem}.crt"], directory)
    for leftover in (f"{stem}.csr", f"{stem}.ext"):
        (directory / leftover).unlink()


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def kubeconfig(directory: Path, user: str, server: str) -> dict[str, object]:
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "chaos360",
        "clusters": [{"name": "chaos360", "cluster": {"server": server,
                                                      "certificate-authority-data": _b64(directory / "ca.crt")}}],
        "users": [{"name": user, "user": {"client-certificate-data": _b64(directory / f"{user}.crt"),
                                          "client-key-data": _b64(directory / f"{user}.key")}}],
        "contexts": [{"name": "chaos360", "context": {"cluster": "chaos360", "user": user}}],
    }


def ensure(directory: Path, api_address: str, nodes: dict[str, str]) -> Path:
    """Make the CA, every certificate and the kubeconfigs unless present; returns the admin kubeconfig."""
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "ca.crt").exists():
        _openssl(["genrsa", "-out", "ca.key", "2048"], directory)
        _openssl(["req", "-x509", "-new", "-nodes", "-key", "ca.key", "-subj", f"/CN={CA_NAME}", "-days", str(DAYS),
                  "-out", "ca.crt"], directory)
    if not (directory / "sa.key").exists():
        _openssl(["genrsa", "-out", "sa.key", "2048"], directory)
        _openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], directory)
    server = f"https://{api_address}:6443"
    for identity in identities(api_address, nodes):
        if not (directory / f"{identity.stem}.crt").exists():
            _sign(identity, directory)
        if not identity.stem.endswith("-serving") and identity.stem not in ("apiserver", "apiserver-kubelet-client"):
            config = directory / f"{identity.stem}.kubeconfig"
            config.write_text(yaml.safe_dump(kubeconfig(directory, identity.stem, server), sort_keys=False))
    for path in directory.iterdir():
        path.chmod(0o600 if path.suffix in (".key", ".kubeconfig") else 0o644)
    return directory / "admin.kubeconfig"
