from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from zonewarden.errors import NotFoundError
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, sites
from zonewarden.services.principal import local_principal
from zonewarden.store.tables import assets as assets_table


def test_import_load_round_trip(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    [outcome] = sites.import_documents(store, [doc], principal=local_principal(name="tester"), reason="first import")
    assert outcome.created and not outcome.unchanged
    assert sites.load_document(store, "mini") == doc
    with store.read() as conn:
        row = conn.execute(select(assets_table.c.zone_id, assets_table.c.version).where(assets_table.c.id == "plc-1")).one()
    assert tuple(row) == ("cell", "2.10")


def test_reimport_of_same_content_changes_nothing(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    sites.import_documents(store, [doc], principal=local_principal())
    [again] = sites.import_documents(store, [doc], principal=local_principal())
    assert again.unchanged
    with store.read() as conn:
        assert len(list(audit.events(conn))) == 1


def test_reimport_records_what_changed(store, mini_site_file: Path, mini_site_text: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    changed = tmp_path / "changed.yaml"
    changed.write_text(mini_site_text.replace("version: 2.10", "version: 2.11").replace(
        "  - {id: hist-1, name: Historian mirror, type: historian, zone: dmz, vendor: AVEVA, product: PI Server}\n", ""
    ))
    [outcome] = sites.import_documents(store, [load_site(changed)], principal=local_principal(name="ann"), reason="firmware update",
                                      prune=True)  # an unstamped file removes only when told (issue 12 §7)
    assets_change = next(c for c in outcome.changes if c.section == "assets")
    assert assets_change.changed == ("plc-1",) and assets_change.removed == ("hist-1",)
    with store.read() as conn:
        last = list(audit.events(conn))[-1]
    assert (last.actor, last.reason, last.action) == ("ann", "firmware update", "site.import")
    assert last.after["changes"]["assets"]["removed"] == ["hist-1"]


def test_failed_import_leaves_database_as_it_was(store, mini_site_file: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    sites.import_documents(store, [doc], principal=local_principal())
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
        sites.import_documents(store, [changed, other], principal=local_principal())
    monkeypatch.setattr(audit, "append", real_append)
    assert [i for i, _ in sites.list_sites(store, principal=local_principal())] == ["mini"]
    assert sites.load_document(store, "mini").site.name == "Mini plant"
    with store.read() as conn:
        assert audit.verify(conn).ok and audit.verify(conn).events == 1


def test_resolve_site(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError, match="run `zonewarden import"):
        sites.resolve_site_id(store, None, principal=local_principal())
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    assert sites.resolve_site_id(store, None, principal=local_principal()) == "mini"
    with pytest.raises(NotFoundError, match="sites: mini"):
        sites.resolve_site_id(store, "nope", principal=local_principal())


def test_delete_cascades(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    sites.delete_site(store, "mini", reason="decommissioned", principal=local_principal())
    with store.read() as conn:
        assert conn.execute(text("select count(*) from assets")).scalar() == 0
        assert conn.execute(text("select count(*) from zones")).scalar() == 0


def _plant_with_asset_edge_cases():  # type: ignore[no-untyped-def]
    """The example plant plus what the asset rules look at: an unzoned asset, a vendor
    end-of-support status, and waivers naming an asset the check's scope leaves out, an
    unknown id and an expired one."""
    import datetime as dt

    from zonewarden.domain.site import SupportStatus, Waiver

    doc = load_site(Path(__file__).parents[2] / "examples" / "pharma-plant")
    assets = list(doc.assets)
    plain = [i for i, a in enumerate(assets) if a.zone and not a.end_of_support and a.type.value != "jump-host"]
    assets[plain[0]] = assets[plain[0]].model_copy(update={"zone": None})
    assets[plain[1]] = assets[plain[1]].model_copy(update={"vendor_support": SupportStatus.END_OF_SUPPORT})
    outside = assets[plain[2]].id  # an asset no asset rule looks at
    waivers = (
        *doc.checks.waivers,
        Waiver(rule="ZW011", objects=(outside,), justification="named by an expired waiver only",
               approved_by=doc.people[0].id, expires=dt.date(2020, 1, 1)),
        Waiver(rule="ZW010", objects=(assets[plain[0]].id, "no-such-id"), justification="one unknown id here",
               approved_by=doc.people[0].id, expires=dt.date(2040, 1, 1)),
    )
    return doc.model_copy(update={"assets": tuple(assets), "checks": doc.checks.model_copy(update={"waivers": waivers})})


def test_check_from_the_database_gives_the_report_of_the_whole_document(store) -> None:  # type: ignore[no-untyped-def]
    # `check` on a stored site reads the document without assets and, of the assets, only the
    # facts of those the rules look at (typed columns, filtered by the database). The report
    # must be the one of the whole document, on SQLite and PostgreSQL.
    import datetime as dt

    from zonewarden.domain.site import AssetFacts, SiteDocument
    from zonewarden.engines.segmentation import ASSET_SCOPE, ObjectKind, run_check

    doc = SiteDocument.model_validate(_plant_with_asset_edge_cases().model_dump())
    sites.import_documents(store, [doc], principal=local_principal())
    every = [AssetFacts.of(a) for a in doc.assets]
    assert sites.asset_facts(store, doc.site.id) == every
    stored = sites.load_for_check(store, doc.site.id)
    assert stored.doc.assets == ()
    assert stored.assets == [f for f in every if ASSET_SCOPE.covers(f)]
    assert 0 < len(stored.assets) < len(every) // 2
    assert stored.asset_ids == {o for w in doc.checks.waivers for o in w.objects} & {a.id for a in doc.assets}
    for today in (dt.date(2026, 11, 25), dt.date(2031, 1, 1)):  # before and after the support dates
        full = run_check(doc, today=today)
        assert run_check(stored.doc, today=today, assets=stored.assets, asset_ids=stored.asset_ids) == full
    assert {"ZW010", "ZW011", "ZW014"} <= {f.rule for f in full.findings}
    assert any("no-such-id" in p.message for p in full.problems)
    # The expired waiver names an asset outside the scope: still reported as an asset.
    (outside,) = [w.objects[0] for w in doc.checks.waivers if w.justification.startswith("named by")]
    assert not ASSET_SCOPE.covers(next(f for f in every if f.id == outside))
    (expired,) = [f for f in full.findings if f.rule == "ZW014" and f.objects == (outside,)]
    assert expired.kinds == (ObjectKind.ASSET,)


def test_a_write_rewrites_only_the_sections_that_changed(store) -> None:  # type: ignore[no-untyped-def]
    # An edit of one requirement on a large site must not rewrite its asset rows; whatever is
    # rewritten, the stored site equals the new document and keeps the evidence it names.
    import datetime as dt

    from sqlalchemy import event

    from zonewarden.domain.requirements import RequirementStatus, Status
    from zonewarden.services import requirements

    plant = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
    doc = load_site(plant)
    sites.import_documents(store, [doc], evidence={doc.site.id: _evidence_bytes(plant, doc)}, principal=local_principal())
    files = sites.evidence_of(store, doc.site.id)
    assert "evidence/comp-hmi-access-review-2026-03.txt" in files
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement.split("(")[0].upper())

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        # 1. One requirement changes: only the requirements section is written.
        status = RequirementStatus(target="ent", requirement="SR 1.1", status=Status.PARTIAL,
                                   justification="MFA only for the vendor accounts so far",
                                   assessed=dt.date(2026, 11, 30))
        requirements.set_requirement_status(store, doc.site.id, status, reason="review", principal=local_principal())
        written = {s for s in statements if s.startswith(("INSERT", "DELETE"))}
        assert any("REQUIREMENTS" in s or "SITE_RECORDS" in s for s in written), written
        assert not any(" ASSETS" in s or " ZONES" in s or "EVIDENCE_FILES" in s for s in written), written
        expected = doc.model_copy(update={"requirements": tuple(
            status if (r.target, r.requirement) == ("ent", "SR 1.1") else r for r in doc.requirements
        )})
        assert sites.load_document(store, doc.site.id) == expected
        assert sites.evidence_of(store, doc.site.id) == files

        # 2. A re-import that changes one asset and drops the evidence a requirement named.
        statements.clear()
        firmware = tuple(a.model_copy(update={"version": "V9.9"}) if a.id == "comp-plc-p1" else a for a in doc.assets)
        gone = "evidence/comp-hmi-access-review-2026-03.txt"

        def without(items):  # type: ignore[no-untyped-def]
            return tuple(i.model_copy(update={"evidence": tuple(e for e in i.evidence if e.file != gone)}) for i in items)

        changed = doc.model_copy(update={
            "assets": firmware,
            "requirements": without(doc.requirements),
            "compensating_controls": without(doc.compensating_controls),
        })
        sites.import_documents(store, [changed], principal=local_principal())
        written = {s for s in statements if s.startswith(("INSERT", "DELETE"))}
        assert any(" ASSETS" in s for s in written) and not any(" ZONES" in s for s in written), written
        assert sites.load_document(store, doc.site.id) == changed
        kept = sites.evidence_of(store, doc.site.id)
        assert gone not in kept and kept == {p: b for p, b in files.items() if p != gone}
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    with store.read() as conn:
        assert conn.execute(
            select(assets_table.c.version).where(assets_table.c.id == "comp-plc-p1")
        ).scalar_one() == "V9.9"


def _evidence_bytes(plant: Path, doc) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    paths = {e.file for item in (*doc.requirements, *doc.compensating_controls, *doc.capabilities)
             for e in item.evidence if e.file}
    return {p: (plant / p).read_bytes() for p in paths}
