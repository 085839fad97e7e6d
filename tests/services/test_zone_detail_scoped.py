"""The zone page's detail reads only the zone's assets (and those an exception names): the same
levels, gap, explanation and matrix as on the whole document, for every zone and conduit."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.io.sitefile import load_site
from zonewarden.services.principal import local_principal
from zonewarden.services.queries import zone_detail
from zonewarden.services.sites import import_documents, load_document
from zonewarden.store.db import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:///{tmp_path / 'z.db'}")
    doc = load_site(ROOT / "examples" / "pharma-plant")
    import_documents(s, [doc], principal=local_principal())
    return s


def test_every_target_is_the_same_as_on_the_whole_document(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    me = local_principal()
    full = load_document(store, "rheinfeld-os")
    targets = [z.id for z in full.zones] + [c.id for c in full.conduits]
    scoped = {t: zone_detail.target_detail(store, me, "rheinfeld-os", t) for t in targets}
    assert any(r.sl_c is not None for d in scoped.values() for r in d.frs), "some zone's assets state an SL-C"
    monkeypatch.setattr(zone_detail, "_scoped_document", lambda s, site, target: load_document(s, site))
    for t in targets:
        assert zone_detail.target_detail(store, me, "rheinfeld-os", t) == scoped[t], t


def test_the_scoped_document_holds_the_zones_assets_and_those_exceptions_name(store) -> None:  # type: ignore[no-untyped-def]
    full = load_document(store, "rheinfeld-os")
    zone = next(z.id for z in full.zones if any(a.zone == z.id for a in full.assets))
    doc = zone_detail._scoped_document(store, "rheinfeld-os", zone)
    named = {a for e in full.exceptions for a in e.assets}
    assert {a.id for a in doc.assets} == {a.id for a in full.assets if a.zone == zone or a.id in named}
    assert len(doc.assets) < len(full.assets)
