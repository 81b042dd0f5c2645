"""Loopback helpers for the end-to-end tests that start servers (本机端口)."""

from __future__ import annotations

import json
import socket
import urllib.request
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call_api(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One JSON request to a server this test started on 127.0.0.1 (Airflow's REST API)."""
    req = urllib.request.Request(  # noqa: S310 - loopback test server
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback test server
        return json.loads(resp.read() or b"null")
