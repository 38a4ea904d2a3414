"""Logging: text or JSON lines, and security events that cannot flood the log.

``security(event, reason, **fields)`` writes one WARNING line for a failed
login, a refused update, a bad TSIG, a refused transfer, an RRL start or
stop... Such lines are what an attacker controls, so each kind of event is
limited to ``BURST`` lines per ``WINDOW`` seconds; the rest are counted and
the count is written once the window ends ("N more ... suppressed").
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any

from dynzone.metrics import SECURITY_EVENTS

log = logging.getLogger("dynzone.security")

BURST = 20
WINDOW = 10.0

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any event fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup(level: str, fmt: str = "text") -> None:
    """Send dynzone's log to stderr, as text lines or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("dynzone: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))


class _Window:
    def __init__(self) -> None:
        self.start = 0.0
        self.count = 0
        self.dropped = 0


_windows: dict[str, _Window] = {}
_lock = threading.Lock()


def security(event: str, reason: str, **fields: object) -> bool:
    """Log one security event (``event`` names its kind); False if it was suppressed."""
    SECURITY_EVENTS.labels(event).inc()
    now = time.monotonic()
    with _lock:
        w = _windows.setdefault(event, _Window())
        dropped = 0
        if now - w.start >= WINDOW:
            dropped, w.start, w.count, w.dropped = w.dropped, now, 0, 0
        w.count += 1
        if w.count > BURST:
            w.dropped += 1
            return False
    if dropped:
        log.warning(
            "%s: %d more suppressed in the last %.0f s",
            event,
            dropped,
            WINDOW,
            extra={"fields": {"event": event, "suppressed": dropped}},
        )
    detail = " ".join(f"{k}={v}" for k, v in fields.items())
    log.warning(
        "%s: %s%s",
        event,
        reason,
        f" ({detail})" if detail else "",
        extra={"fields": {"event": event, "reason": reason, **fields}},
    )
    return True
