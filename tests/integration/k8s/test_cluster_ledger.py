"""The fault ledger in the cluster: a crashed harness's recorded fault is healed by `chaos360 heal` from another
process, writers never lose each other's entries, and nothing of the ledger is left once it is empty."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes.client.exceptions import ApiException

from kernel.ledger import Undo
from lab.k8s.cluster_ledger import LEDGER_NAME
from lab.k8s.lab_target import open_lab_target
from lab.k8s.leftovers import find_leftovers
from lab.k8s.target import KubernetesTarget
from tests.integration.k8s.conftest import LAB, cli, killed_after_injecting

pytestmark = [pytest.mark.integration, pytest.mark.k8s]


@pytest.fixture(scope="module")
def target(k8s_lab: subprocess.CompletedProcess[str]) -> KubernetesTarget:
    assert k8s_lab.returncode == 0, k8s_lab.stderr[-2000:]
    return open_lab_target(LAB, "policy")


def _ledger_exists(target: KubernetesTarget) -> bool:
    try:
        target.core.read_namespaced_config_map(LEDGER_NAME, target.namespace)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return True


def test_concurrent_writers_keep_every_entry_and_an_emptied_ledger_leaves_no_configmap(
    target: KubernetesTarget,
) -> None:
    writers = [open_lab_target(LAB, "policy").ledger() for _ in range(2)]

    def record(n: int) -> str:
        return writers[n % 2].record("test-fault", Undo(op="resume", args={"name": f"member-{n}"})).id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(record, range(16)))
    assert {e.id for e in target.ledger().entries()} == ids
    assert _ledger_exists(target)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda entry_id: writers[0].discard(entry_id), sorted(ids)))
    assert target.ledger().entries() == []
    assert not _ledger_exists(target)


def test_a_crashed_harness_fault_is_healed_from_the_cluster_ledger_by_another_process(
    target: KubernetesTarget,
) -> None:
    script = ("from kernel.ledger import Undo\n"
              "from lab.k8s.lab_target import open_lab_target\n"
              "target = open_lab_target('chaos360', 'policy')\n"
              "target.ledger().record('zone-partition', Undo(op='rejoin', args={'zone': 'c'}))\n"
              "target.isolate('c')\n")
    killed_after_injecting(script)
    (entry,) = target.ledger().entries()
    assert (entry.fault, entry.undo.op) == ("zone-partition", "rejoin")
    left = find_leftovers(target)
    assert f"ledger entry zone-partition ({entry.id})" in left and "NetworkPolicy chaos360-isolate-c" in left
    healed = cli("heal", timeout_s=600)
    output = healed.stdout + healed.stderr
    assert healed.returncode == 0, output
    assert "healed 1: zone-partition" in output and "lab ready" in output
    assert "NetworkPolicy" not in output  # undone by the ledger's entry, not found afterwards as a leftover
    assert target.isolation_policies() == []
    assert find_leftovers(target) == []
    assert not _ledger_exists(target)
