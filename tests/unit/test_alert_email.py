"""Failure alerts by e-mail through Airflow's SmtpNotifier, against a real SMTP server on
127.0.0.1 (a minimal one, in this file): the mail arrives with the task and the error; a dead
mail server is recorded and never raised (邮件告警)."""

from __future__ import annotations

import email
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from email.policy import default as default_policy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from jixiao.alerts import record_failure, record_retry
from jixiao.config import Settings


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def handle(self) -> None:
        def reply(text: str) -> None:
            self.wfile.write((text + "\r\n").encode())

        reply("220 127.0.0.1 jixiao test SMTP")
        envelope: dict[str, Any] = {"rcpt": []}
        lines: list[str] | None = None
        for raw in self.rfile:
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if lines is not None:  # inside DATA
                if text == ".":
                    self.server.messages.append({**envelope, "data": "\n".join(lines)})  # type: ignore[attr-defined]
                    lines, envelope = None, {"rcpt": []}
                    reply("250 OK queued")
                else:
                    lines.append(text[1:] if text.startswith("..") else text)
                continue
            verb = text.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                reply("250-127.0.0.1")
                reply("250 8BITMIME")
            elif verb == "MAIL":
                envelope["from"] = text
                reply("250 OK")
            elif verb == "RCPT":  # RCPT TO:<address>
                envelope["rcpt"].append(text.split(":", 1)[1].strip().strip("<>"))
                reply("250 OK")
            elif verb == "DATA":
                lines = []
                reply("354 End data with <CR><LF>.<CR><LF>")
            elif verb == "QUIT":
                reply("221 Bye")
                return
            elif verb in ("RSET", "NOOP"):
                reply("250 OK")
            else:
                reply("502 not implemented")


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.messages  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def _connection(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 5, "retry_limit": 1},
    }
    monkeypatch.setenv("AIRFLOW_CONN_JIXIAO_TEST_SMTP", json.dumps(conn))
    monkeypatch.setenv("JIXIAO_ALERT_SMTP_CONN_ID", "jixiao_test_smtp")
    monkeypatch.setenv("JIXIAO_ALERT_EMAIL_FROM", "jixiao@example.org")


def _context(task_id: str = "dbt_build") -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="jixiao_nightly", task_id=task_id, try_number=3)
    return {
        "ti": ti,
        "run_id": "scheduled__2026-12-03T02:00:00+08:00",
        "exception": RuntimeError("dbt 测试失败 / a dbt test failed: assert_budget_reconciles"),
    }


def _alerts(settings: Settings) -> list[dict[str, Any]]:
    path = settings.home / "alerts" / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_failure_is_mailed_through_the_smtp_notifier(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: tuple[int, list[dict[str, Any]]],
) -> None:
    port, messages = smtp_server
    _connection(monkeypatch, port)
    monkeypatch.setenv("JIXIAO_ALERT_EMAIL_TO", "evaluator@example.org, steward@example.org")
    alert = record_failure(_context())
    assert "email_error" not in alert, alert
    (sent,) = messages
    assert sorted(sent["rcpt"]) == ["evaluator@example.org", "steward@example.org"]
    msg = email.message_from_string(sent["data"], policy=default_policy)
    assert msg["Subject"] == "[jixiao] 任务失败 / task failed: jixiao_nightly.dbt_build"
    body = msg.get_body(("html",))
    assert body is not None
    content = body.get_content()
    assert "assert_budget_reconciles" in content and "jixiao_nightly.dbt_build" in content
    assert [a["kind"] for a in _alerts(settings)] == ["failure"]


def test_retries_are_not_mailed(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: tuple[int, list[dict[str, Any]]],
) -> None:
    port, messages = smtp_server
    _connection(monkeypatch, port)
    monkeypatch.setenv("JIXIAO_ALERT_EMAIL_TO", "evaluator@example.org")
    record_retry(_context())
    assert messages == []


def test_without_recipients_nothing_is_mailed(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: tuple[int, list[dict[str, Any]]],
) -> None:
    port, messages = smtp_server
    _connection(monkeypatch, port)
    monkeypatch.delenv("JIXIAO_ALERT_EMAIL_TO", raising=False)
    alert = record_failure(_context())
    assert messages == [] and "email_error" not in alert


def test_a_dead_mail_server_is_recorded_not_raised(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _connection(monkeypatch, port)
    monkeypatch.setenv("JIXIAO_ALERT_EMAIL_TO", "evaluator@example.org")
    alert = record_failure(_context())
    assert alert.get("email_error"), alert
    kinds = [a["kind"] for a in _alerts(settings)]
    assert kinds == ["failure", "email_error"]
    assert Path(settings.home / "alerts" / "alerts.jsonl").is_file()
