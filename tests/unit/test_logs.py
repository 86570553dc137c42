"""The last line of defence: BSN-like values never leave the log pipeline."""

from __future__ import annotations

from vogscreen.domain.redact import REDACTED, scrub_bsn_like


def test_bsn_like_values_are_redacted_wherever_they_sit_in_an_event() -> None:
    event = {
        "event": "oops 123456782 leaked",
        "bsn": 123456782,
        "nested": {"rows": [12345678, "x 087654321 y"]},
        "count": 42,
        "staff_list": 1234,
    }
    scrubbed = scrub_bsn_like(None, "info", event)
    assert scrubbed["event"] == f"oops {REDACTED} leaked"
    assert scrubbed["bsn"] == REDACTED
    assert scrubbed["nested"] == {"rows": [REDACTED, f"x {REDACTED} y"]}
    assert scrubbed["count"] == 42
    assert scrubbed["staff_list"] == 1234
