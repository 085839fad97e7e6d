"""iCalendar export: escaping, folding, deterministic UIDs, UTC times from the site's zone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from zonewarden.engines.patchplan import open_items, plan_patches
from zonewarden.io.ical import escape_text, fold, plan_to_ical, uid
from zonewarden.io.sitefile import load_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"


def test_escape_text() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


@given(st.text(min_size=0, max_size=400))
def test_fold_keeps_content_and_line_length(text: str) -> None:
    line = "DESCRIPTION:" + escape_text(text)
    folded = fold(line)
    parts = folded.split("\r\n ")
    assert "".join(parts) == line
    assert all(len(p.encode("utf-8")) <= (75 if i == 0 else 74) for i, p in enumerate(parts))


def test_plan_calendar_is_deterministic_and_in_utc() -> None:
    doc = load_site(EXAMPLE)
    plan = plan_patches(doc, open_items(doc), dt.date(2026, 12, 1), solver="greedy")
    text = plan_to_ical(plan, site_id="rheinfeld-os", site_name="Rheinfeld", timezone="Europe/Zurich")
    again = plan_to_ical(plan, site_id="rheinfeld-os", site_name="Rheinfeld", timezone="Europe/Zurich")
    assert text == again
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    events = text.count("BEGIN:VEVENT")
    assert events == len({(a.window, a.start) for a in plan.assignments})
    # 18:00 in Zurich in December is 17:00 UTC.
    assert "DTSTART:20261201T170000Z" in text
    assert f"UID:{uid('rheinfeld-os', 'mw-dmz', dt.datetime(2026, 12, 1, 18, 0))}" in text
    assert "DTSTAMP:20261201T000000Z" in text
    unfolded = text.replace("\r\n ", "")
    assert "dmz-fw-a: SCALANCE-SC600-V3.0.1 [out-of-cycle\\, tier 1\\, production] - past deadline" in unfolded
