"""Secrets are found by name or by the experiment's secrets block, and masked wherever they appear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel import redact
from kernel.record import EventLog


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    redact.forget()
    yield
    redact.forget()


def test_environment_secrets_by_name_and_secret_files(tmp_path: Path) -> None:
    secret_file = tmp_path / "db"
    secret_file.write_text("from-a-file-123\n")
    env = {"CHAOS360_REDIS_PASSWORD": "hunter22", "API_TOKEN": "tok-999", "HOME": "/root",
           "DB_PASSWORD_FILE": str(secret_file)}
    assert redact.from_environment(env) >= {"hunter22", "tok-999", "from-a-file-123"}
    assert "/root" not in redact.from_environment(env)


def test_experiment_secrets_inline_and_from_the_environment() -> None:
    experiment = {
        "configuration": {"lab_id": "chaos360", "db_password": "inline-pw", "api_key": {"type": "env", "key": "K"}},
        "secrets": {"k8s": {"token": "tok-inline", "cert": {"type": "env", "key": "CERT"}}},
    }
    found = redact.from_experiment(experiment, {"K": "from-env-k", "CERT": "cert-body"})
    assert found >= {"inline-pw", "from-env-k", "tok-inline", "cert-body"}
    assert "chaos360" not in found


def test_text_masks_secrets_also_inside_json_strings() -> None:
    redact.register({'pa"ss\\word', "abc"})
    dumped = json.dumps({"x": 'pa"ss\\word and more'})
    assert 'ss' not in redact.text(dumped).replace("more", "")
    assert json.loads(redact.text(dumped)) == {"x": "*** and more"}
    assert redact.text("abc") == "abc", "values shorter than MIN_LENGTH are not masked (too many false hits)"


def test_event_log_writes_redacted_lines(tmp_path: Path) -> None:
    redact.register({"s3cr3t-value"})
    EventLog(tmp_path / "events.jsonl").append("fault.inject", detail="auth s3cr3t-value failed")
    text = (tmp_path / "events.jsonl").read_text()
    assert "s3cr3t-value" not in text and "auth *** failed" in text
