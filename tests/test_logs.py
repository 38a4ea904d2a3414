"""Security events: one line each with a reason, limited per kind; JSON lines on request."""

from __future__ import annotations

import json
import logging

import pytest

from dynzone import logs


@pytest.fixture(autouse=True)
def fresh_windows() -> None:
    logs._windows.clear()


def test_each_kind_of_event_is_limited_and_the_rest_counted(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(logs.time, "monotonic", lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="dynzone.security"):
        written = [logs.security("bad-tsig", "BADSIG", client="192.0.2.1") for _ in range(50)]
        assert written.count(True) == logs.BURST
        assert logs.security("failed-login", "wrong password")  # another kind has its own
        now[0] += logs.WINDOW
        assert logs.security("bad-tsig", "BADSIG", client="192.0.2.1")
    text = caplog.text
    assert text.count("bad-tsig: BADSIG (client=192.0.2.1)") == logs.BURST + 1
    assert f"bad-tsig: {50 - logs.BURST} more suppressed" in text


def test_json_lines_carry_the_event_fields() -> None:
    record = logging.LogRecord("dynzone.security", logging.WARNING, "", 0, "x: y", None, None)
    record.fields = {"event": "failed-login", "reason": "wrong password", "client": "192.0.2.9"}
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["level"] == "warning" and line["message"] == "x: y"
    assert line["event"] == "failed-login" and line["client"] == "192.0.2.9"
    assert line["time"].endswith("Z")
