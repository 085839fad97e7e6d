"""Keyboard use in a real browser: tabbing through the dashboard and a zone page reaches every
link, button and form field, in order, each with a visible focus indicator; screenshots at 1280
and 768 px (in /tmp/zonewarden-web-shots, for a person to look at)."""

from __future__ import annotations

from typing import Any

import pytest

from . import test_browser as tb
from .test_browser import CHROMIUM, SHOTS, SITE

# the browser tests' fixtures: a populated server on loopback, chromium, watched pages
server, browser, watched = tb.server, tb.browser, tb.watched

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

MARK = """() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  const all = [...document.querySelectorAll(sel)].filter(e => !e.disabled && e.getClientRects().length > 0
      && getComputedStyle(e).visibility !== 'hidden' && !e.closest('details:not([open]) > :not(summary)'));
  all.forEach((e, i) => e.setAttribute('data-kb', String(i)));
  return all.length;
}"""

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  const poly = e.querySelector && e.querySelector('polygon, path');
  const drawn = poly ? getComputedStyle(poly).strokeWidth : null;
  return {kb: e.getAttribute('data-kb'), tag: e.tagName, ring: ring, stroke: drawn,
          text: (e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 60)};
}"""


def _tab_through(page: Any) -> tuple[int, list[dict[str, Any]]]:
    total = page.evaluate(MARK)
    page.locator("body").focus()
    seen: list[dict[str, Any]] = []
    for _ in range(3 * total + 30):  # a date field takes a Tab per part (day, month, year)
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUSED)
        if info is None:
            break
        if seen and info["kb"] == seen[0]["kb"]:
            break
        if seen and info["kb"] == seen[-1]["kb"]:
            continue
        seen.append(info)
    return total, seen


@pytest.mark.parametrize("path", ["/", f"/sites/{SITE}/zones/pack"])
def test_tab_reaches_every_control_with_a_visible_focus(watched: Any, path: str) -> None:
    w = watched(1280)
    w.login("eve")
    w.page.goto(path)
    total, seen = _tab_through(w.page)
    reached = {s["kb"] for s in seen if s["kb"] is not None}
    assert total > 5
    missing = sorted(set(map(str, range(total))) - reached, key=int)
    first_missing = w.page.evaluate(f"() => document.querySelector('[data-kb=\"{missing[0]}\"]').outerHTML") if missing else ""
    assert not missing, (f"{len(missing)} of {total} controls not reached by Tab on {path}: {missing[:10]}; "
                         f"first {first_missing[:200]}; last reached {seen[-2:]}")
    order = [int(s["kb"]) for s in seen if s["kb"] is not None]
    assert order == sorted(order), "Tab follows the reading order"
    invisible = [s for s in seen if not s["ring"] and s["stroke"] in (None, "1px", "0px")]
    assert not invisible, f"focus not visible on: {invisible[:5]}"
    assert w.errors == []


def test_dashboard_and_zone_page_at_1280_and_768(watched: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in (1280, 768):
        w = watched(width)
        w.login("eve")
        for name, path in (("dashboard", "/"), ("zone", f"/sites/{SITE}/zones/pack")):
            w.page.goto(path)
            # nothing wider than the window: no horizontal scrolling of the page itself
            overflow = w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} at {width} px is {overflow} px wider than the window"
            w.page.screenshot(path=str(SHOTS / f"kb-{name}-{width}.png"), full_page=True)
        assert w.errors == []
