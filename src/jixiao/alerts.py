"""Failure alerts (告警): always recorded to a file, optionally posted to a webhook.

``$JIXIAO_HOME/alerts/alerts.jsonl`` gets one JSON line per failed or retried task. When
``JIXIAO_ALERT_WEBHOOK`` is set, the same JSON is POSTed there (a short timeout; an
unreachable webhook never masks the original failure).
"""

from __future__ import annotations

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
    return alert
