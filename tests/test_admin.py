"""The admin console's service: only admins, every action audited, secrets masked in the shown
configuration, recent errors with their reference, the audit log filtered."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from loguru import logger
from pydantic import SecretStr

from app.admin.console import masked
from app.container import Container
from app.errors import AuthError
from app.logging import setup_logging


def test_only_admins_and_every_action_is_audited(container: Container, tmp_path: Path) -> None:
    import app.logging as logging_module

    logging_module._configured = False
    audit_file = container.settings.data_dir / "logs" / "audit.log"
    setup_logging(level="WARNING", log_file=None, audit_file=audit_file)
    try:
        console = container.admin_console
        container.users.add("root", "roots-long-password", is_admin=True)
        container.users.add("bob", "bobs-long-password")
        with pytest.raises(AuthError):
            console.users_table("bob")
        with pytest.raises(AuthError):
            console.add_user("bob", "mallory", "mallorys-password", admin=True)
        console.add_user("root", "carol", "carols-long-password", admin=False, client="192.0.2.1")
        console.set_admin("root", "carol", True)
        console.set_disabled("root", "bob", True)
        console.reset_password("root", "carol", "carols-new-password")
        with pytest.raises(AuthError):
            console.set_disabled("root", "root", True)  # not yourself
        assert console.remove_user("root", "bob", None).startswith("bob removed")
        names = [row[0] for row in console.users_table("root")]
        assert names == ["carol", "root"]
        assert container.users.get("carol").is_admin
        events = [json.loads(line) for line in audit_file.read_text().splitlines()]
        assert [(e["event"], e["actor"], e["target"]) for e in events] == [
            ("user.created", "root", "carol"),
            ("user.changed", "root", "carol"),
            ("user.changed", "root", "bob"),
            ("user.changed", "root", "carol"),
            ("user.removed", "root", "bob"),
        ]
        assert "carols-long-password" not in audit_file.read_text()
        only = console.audit_log("root", event="user.removed")
        assert [e["target"] for e in only] == ["bob"]
    finally:
        logger.remove()
        logging_module._configured = False


def test_system_view_masks_secrets_and_lists_recent_errors(container: Container) -> None:
    container.users.add("root", "roots-long-password", is_admin=True)
    container.settings.llm.api_key = SecretStr("sk-visible-never")
    container.settings.otel.endpoint = "http://otel:otel-pw-never@collector:4318/v1?api_key=otel-key-never&x=1"
    shown = masked({"llm": {"api_key": SecretStr("sk-visible-never")}, "port": 1})
    assert shown == {"llm": {"api_key": "********"}, "port": 1}
    assert masked("postgresql://app:pw-never@db:5432/app") == "postgresql://app:********@db:5432/app"
    console = container.admin_console
    container.recent_errors.attach()
    with logger.contextualize(request_id="ref-1234"):
        logger.error("something broke in a handler")
    system = console.system("root")
    assert system["services"] == {"database": "ok", "vector store": "ok", "file store": "ok", "OCR": "ok"}
    assert system["index"]["fingerprint"]["embeddings.model"] == container.settings.embeddings.model
    shown_text = json.dumps(system)
    assert "sk-visible-never" not in shown_text and "otel-pw-never" not in shown_text
    assert "otel-key-never" not in shown_text and "collector:4318" in shown_text
    [error] = [e for e in console.errors("root") if e["ref"] == "ref-1234"]
    assert error["message"] == "something broke in a handler"


def test_the_audit_viewer_reads_rotated_files_too(tmp_path: Path) -> None:
    """loguru renames a full audit.log to audit.<time>.log; its events stay readable, newest first."""
    from app import audit as audit_log

    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "audit.2026-11-01_09-00-00_000000.log").write_text('{"event": "login", "actor": "old"}\n')
    os.utime(logs / "audit.2026-11-01_09-00-00_000000.log", (1_700_000_000, 1_700_000_000))
    (logs / "audit.log").write_text('{"event": "login", "actor": "new"}\n')
    (logs / "app.log").write_text('{"event": "login", "actor": "not-audit"}\n')
    assert [e["actor"] for e in audit_log.read(logs / "audit.log")] == ["new", "old"]
