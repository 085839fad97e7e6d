from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from zonewarden.errors import NotFoundError
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, sites
from zonewarden.store.tables import assets as assets_table


def test_import_load_round_trip(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    [outcome] = sites.import_documents(store, [doc], actor="tester", reason="first import")
    assert outcome.created and not outcome.unchanged
    assert sites.load_document(store, "mini") == doc
    with store.read() as conn:
        row = conn.execute(select(assets_table.c.zone_id, assets_table.c.version).where(assets_table.c.id == "plc-1")).one()
    assert tuple(row) == ("cell", "2.10")


def test_reimport_of_same_content_changes_nothing(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    sites.import_documents(store, [doc])
    [again] = sites.import_documents(store, [doc])
    assert again.unchanged
    with store.read() as conn:
        assert len(list(audit.events(conn))) == 1


def test_reimport_records_what_changed(store, mini_site_file: Path, mini_site_text: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)])
    changed = tmp_path / "changed.yaml"
    changed.write_text(mini_site_text.replace("version: 2.10", "version: 2.11").replace(
        "  - {id: hist-1, name: Historian mirror, type: historian, zone: dmz, vendor: AVEVA, product: PI Server}\n", ""
    ))
    [outcome] = sites.import_documents(store, [load_site(changed)], actor="ann", reason="firmware update")
    assets_change = next(c for c in outcome.changes if c.section == "assets")
    assert assets_change.changed == ("plc-1",) and assets_change.removed == ("hist-1",)
    with store.read() as conn:
        last = list(audit.events(conn))[-1]
    assert (last.actor, last.reason, last.action) == ("ann", "firmware update", "site.import")
    assert last.after["changes"]["assets"]["removed"] == ["hist-1"]


def test_failed_import_leaves_database_as_it_was(store, mini_site_file: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    sites.import_documents(store, [doc])
    other = doc.model_copy(update={"site": doc.site.model_copy(update={"id": "second"})})

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed half-way")

    # The second site's audit append dies after its rows were written: nothing of it may remain.
    real_append = audit.append
    calls = {"n": 0}

    def append_then_die(conn, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if kw.get("site_id") == "second":
            boom()
        return real_append(conn, **kw)

    monkeypatch.setattr(audit, "append", append_then_die)
    changed = doc.model_copy(update={"site": doc.site.model_copy(update={"name": "Renamed"})})
    with pytest.raises(RuntimeError):
        sites.import_documents(store, [changed, other])
    monkeypatch.setattr(audit, "append", real_append)
    assert [i for i, _ in sites.list_sites(store)] == ["mini"]
    assert sites.load_document(store, "mini").site.name == "Mini plant"
    with store.read() as conn:
        assert audit.verify(conn).ok and audit.verify(conn).events == 1


def test_resolve_site(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError, match="run `zonewarden import"):
        sites.resolve_site_id(store, None)
    sites.import_documents(store, [load_site(mini_site_file)])
    assert sites.resolve_site_id(store, None) == "mini"
    with pytest.raises(NotFoundError, match="sites: mini"):
        sites.resolve_site_id(store, "nope")


def test_delete_cascades(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)])
    sites.delete_site(store, "mini", reason="decommissioned")
    with store.read() as conn:
        assert conn.execute(text("select count(*) from assets")).scalar() == 0
        assert conn.execute(text("select count(*) from zones")).scalar() == 0


def test_check_from_the_database_reads_the_same_asset_facts(store) -> None:  # type: ignore[no-untyped-def]
    # `check` reads stored assets as a projection (typed columns + JSON fields extracted by the
    # database); it must see exactly what the full model sees, on SQLite and PostgreSQL.
    import datetime as dt

    from zonewarden.domain.site import AssetFacts
    from zonewarden.engines.segmentation import run_check

    doc = load_site(Path(__file__).parents[2] / "examples" / "pharma-plant")
    sites.import_documents(store, [doc])
    partial, facts = sites.load_for_check(store, doc.site.id)
    assert partial.assets == ()
    assert facts == [AssetFacts.of(a) for a in doc.assets]
    assert any(f.end_of_support for f in facts) and any(f.vendor_support.value != "unknown" for f in facts)
    today = dt.date(2031, 1, 1)  # late enough that end-of-support findings appear
    full, projected = run_check(doc, today=today), run_check(partial, today=today, assets=facts)
    assert projected == full
    assert any(f.rule == "ZW011" for f in full.findings)
