"""The site page's check and diagram from one read without the assets: the same findings and
the same SVG as ``check`` and ``diagram`` on the whole document."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zonewarden.io.sitefile import load_site
from zonewarden.services.principal import local_principal
from zonewarden.services.queries import architecture
from zonewarden.services.sites import import_documents
from zonewarden.store.db import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_overview_equals_check_and_diagram(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'z.db'}")
    import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], principal=local_principal())
    me = local_principal()
    check, drawing = architecture.overview(store, principal=me, site_id="rheinfeld-os")
    assert check.report.findings, "the example plant has open check findings"
    assert any(f.refs and f.refs[0][0].value == "asset" for f in check.report.findings), "some on an asset"
    assert check == architecture.check(store, principal=me, site_id="rheinfeld-os")
    assert drawing == architecture.diagram(store, principal=me, site_id="rheinfeld-os")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_overview_is_kept_until_the_site_or_the_day_changes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services import site_edits

    store = open_store(f"sqlite:///{tmp_path / 'z.db'}")
    import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], principal=local_principal())
    me = local_principal()
    first = architecture.overview(store, principal=me, site_id="rheinfeld-os", as_of="2026-12-01")
    assert architecture.overview(store, principal=me, site_id="rheinfeld-os", as_of="2026-12-01") is first
    other_day = architecture.overview(store, principal=me, site_id="rheinfeld-os", as_of="2026-12-02")
    assert other_day is not first and other_day[0].as_of.isoformat() == "2026-12-02"
    # an edit changes the revision: the next view is drawn again and shows it
    zone = first[1].zone_ids[0]
    site_edits.edit_record(store, "rheinfeld-os", "zones", zone, {"name": "Renamed <zone> for the cache test"},
                           principal=me)
    again = architecture.overview(store, principal=me, site_id="rheinfeld-os", as_of="2026-12-02")
    assert again is not other_day and "Renamed &lt;zone&gt; for the cache test" in again[1].svg
    assert again[1] == architecture.diagram(store, principal=me, site_id="rheinfeld-os", as_of="2026-12-02")
