"""Link faults through Toxiproxy sidecars, by their HTTP API at the address the inventory gives the harness: the
Docker lab's per-zone sidecars on loopback, the app pods' sidecars on Kubernetes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from kernel.errors import LabError
from kernel.inventory import InventoryInstance
from kernel.target import ToxicSpec

TOXIPROXY_TIMEOUT_S = 3.0


class SidecarUnanswered(LabError):
    """The sidecar's API did not answer (refused, timed out): not a refusal of the request itself."""


class ToxiproxySidecars:
    """The Target's link operations, on sidecars the target's inventory names (role toxiproxy, port "api")."""

    def _sidecar(self, name: str) -> InventoryInstance:
        raise NotImplementedError

    def _toxiproxy(self, sidecar: str, method: str, path: str, body: dict[str, object] | None = None) -> object:
        instance = self._sidecar(sidecar)
        data = json.dumps(body).encode() if body is not None else None
        url = f"http://{instance.host}:{instance.host_ports['api']}{path}"
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TOXIPROXY_TIMEOUT_S) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise LabError(f"toxiproxy {sidecar} {method} {path}: HTTP {error.code} {error.read()[:200]!r}") from None
        except OSError as error:
            raise SidecarUnanswered(f"toxiproxy {sidecar} unreachable: {error}") from None
        return json.loads(raw) if raw else None

    def add_toxic(self, sidecar: str, proxy: str, toxic: ToxicSpec) -> str:
        name = f"chaos360_{toxic.kind}_{toxic.stream}"
        body = {"name": name, "type": toxic.kind, "stream": toxic.stream, "toxicity": toxic.toxicity,
                "attributes": dict(toxic.attributes)}
        self._toxiproxy(sidecar, "POST", f"/proxies/{proxy}/toxics", body)
        return name

    def remove_toxic(self, sidecar: str, proxy: str, toxic_name: str) -> None:
        if toxic_name in self.toxics(sidecar).get(proxy, []):
            self._toxiproxy(sidecar, "DELETE", f"/proxies/{proxy}/toxics/{toxic_name}")

    def set_proxy_enabled(self, sidecar: str, proxy: str, enabled: bool) -> None:
        self._toxiproxy(sidecar, "POST", f"/proxies/{proxy}", {"enabled": enabled})

    def toxics(self, sidecar: str) -> dict[str, list[str]]:
        proxies = self._toxiproxy(sidecar, "GET", "/proxies")
        assert isinstance(proxies, dict)
        found: dict[str, list[str]] = {}
        for name, proxy in proxies.items():
            found[name] = [t["name"] for t in proxy.get("toxics", [])]
            if not proxy.get("enabled", True):
                found[f"{name}:disabled"] = []
        return found
