"""Messages say "1 problem" and "2 problems", and the diagram does not repeat a zone id that
equals its kind (issue 17.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.errors import SiteFileError
from zonewarden.evidence.diagram import build_graph
from zonewarden.io.sitefile import load_site
from zonewarden.wording import count

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pharma-plant"


def test_count_uses_the_singular_for_one() -> None:
    assert count(1, "problem") == "1 problem"
    assert count(0, "asset") == "0 assets"
    assert count(3, "asset") == "3 assets"
    assert count(2, "entry", "entries") == "2 entries"


def test_one_problem_is_not_called_problems(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "zonewarden: 1\nsite: {id: s, name: S}\n"
        "zones:\n  - {id: z, kind: control, purdue_level: 1, sl_target: 2}\n"
    )
    with pytest.raises(SiteFileError) as err:
        load_site(site)
    assert "(1 problem)" in str(err.value)


def test_diagram_shows_a_zone_id_that_equals_its_kind_once() -> None:
    doc = load_site(EXAMPLE)
    source = build_graph(doc).source
    assert "dmz · dmz" not in source
    assert any(z.id == z.kind.value for z in doc.zones)  # the example has such a zone ("dmz")
    assert " 1 assets" not in source and "·1 assets" not in source


def test_windows_without_a_site_timezone_are_warned_about() -> None:
    from zonewarden.domain.patching import timezone_note

    doc = load_site(EXAMPLE)
    assert doc.site.timezone == "Europe/Berlin" and doc.maintenance_windows
    assert timezone_note(doc) is None
    bare = doc.model_copy(update={"site": doc.site.model_copy(update={"timezone": None})})
    note = timezone_note(bare)
    assert note is not None and "site.timezone" in note and "UTC" in note
