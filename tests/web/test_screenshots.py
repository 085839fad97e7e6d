"""docs/screenshots holds a picture of every page (scripts/screenshots.sh renders them)."""

from __future__ import annotations

from pathlib import Path

from zonewarden.web import PAGES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_every_page_has_its_screenshots() -> None:
    missing = [f"{name}{suffix}.png" for name, _ in PAGES for suffix in ("", "-768")
               if not (DOCS / f"{name}{suffix}.png").is_file()]
    assert missing == [], f"run bash scripts/screenshots.sh: missing {missing}"


def test_readme_shows_the_dashboard() -> None:
    assert "docs/screenshots/dashboard.png" in (DOCS.parents[1] / "README.md").read_text(encoding="utf-8")
