"""Failure alerts (告警): always recorded to a file, optionally posted to a webhook and mailed.

``$JIXIAO_HOME/alerts/alerts.jsonl`` gets one JSON line per failed or retried task. When
``JIXIAO_ALERT_WEBHOOK`` is set, the same JSON is POSTed there (a short timeout). When
``JIXIAO_ALERT_EMAIL_TO`` lists addresses, a failure is mailed with Airflow's own
``SmtpNotifier`` (apache-airflow-providers-smtp) over the Airflow connection
``JIXIAO_ALERT_SMTP_CONN_ID`` (default ``smtp_default``: host, port, login and TLS live in the
connection or the secrets backend, never in jixiao's settings). An unreachable webhook or mail
server never masks the original failure: the record says what went wrong.
"""

from __future__ import annotations

import html
import json
import os
import urllib.request
from datetime import UTC, datetime
from typing import Any

from jixiao.config import get_settings


def record_failure(context: Any) -> dict[str, Any]:
    """A task failed for good (任务失败): record it and post to the webhook."""
    return _record(context, "failure", notify=True)


def record_retry(context: Any) -> dict[str, Any]:
    """A task failed and will be retried (任务重试): record it, no webhook."""
    return _record(context, "retry", notify=False)


def _record(context: Any, kind: str, notify: bool) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    alert = {
        "kind": kind,
        "at": datetime.now(UTC).isoformat(),
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": str(context.get("run_id")),
        "try_number": getattr(ti, "try_number", None),
        "error": str(exc) if exc else None,
    }
    path = get_settings().home / "alerts" / "alerts.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(alert, ensure_ascii=False) + "\n")
    url = os.environ.get("JIXIAO_ALERT_WEBHOOK", "") if notify else ""
    if url.startswith(("http://", "https://")):
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=json.dumps(alert, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(req, timeout=5).close()  # noqa: S310 - scheme checked above
        except OSError as err:
            alert["webhook_error"] = str(err)
    if notify:
        error = _email(alert, context)
        if error:
            alert["email_error"] = error
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({**alert, "kind": "email_error"}, ensure_ascii=False) + "\n")
    return alert


def _email(alert: dict[str, Any], context: Any) -> str | None:
    """Mail the failure to ``JIXIAO_ALERT_EMAIL_TO`` (邮件告警); the error text if it failed."""
    to = [a.strip() for a in os.environ.get("JIXIAO_ALERT_EMAIL_TO", "").split(",") if a.strip()]
    if not to:
        return None
    task = f"{alert['dag_id']}.{alert['task_id']}"
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in alert.items()
    )
    try:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        SmtpNotifier(
            to=to,
            from_email=os.environ.get("JIXIAO_ALERT_EMAIL_FROM") or None,
            smtp_conn_id=os.environ.get("JIXIAO_ALERT_SMTP_CONN_ID") or "smtp_default",
            subject=f"[jixiao] 任务失败 / task failed: {task}",
            html_content=(
                f"<p>jixiao 任务失败 / a jixiao task failed: <b>{html.escape(task)}</b></p>"
                f"<table>{rows}</table>"
            ),
        ).notify(context)
    except Exception as err:  # any mail failure is recorded, never raised
        return f"{type(err).__name__}: {err}"
    return None
