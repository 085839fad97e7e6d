from __future__ import annotations

from importlib import resources

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from zonewarden.services.principal import local_principal
from zonewarden.store.db import _alembic_config, expected_heads, open_store, upgrade
from zonewarden.store.tables import metadata


def test_cheap_head_detection_agrees_with_alembic() -> None:
    script = ScriptDirectory.from_config(_alembic_config("sqlite://"))
    assert expected_heads() == frozenset(script.get_heads())
    assert (resources.files("zonewarden.store") / "migrations" / "env.py").is_file()


def test_migrations_create_every_table_of_the_metadata(db_url: str) -> None:
    store = open_store(db_url)
    tables = set(inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= tables
    # Opening again is a no-op (already at the heads).
    open_store(db_url).close()
    store.close()


def test_the_migrated_schema_matches_the_tables_exactly(db_url: str) -> None:
    # Issue 17.11: "every table exists" passes with a missing column, index or a wrong type.
    # Alembic's autogenerate compares the migrated database with the metadata: no difference.
    import pkgutil

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import zonewarden.store

    for info in pkgutil.iter_modules(zonewarden.store.__path__, "zonewarden.store."):
        if info.name.endswith("_tables"):  # every module that declares tables on the metadata
            __import__(info.name)
    assert {"users", "findings", "sites"} <= set(metadata.tables)
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, metadata)
            # The comparison can fail: a column the migrations never added is found.
            from sqlalchemy import Column, Integer, MetaData

            probe = MetaData()
            for table in metadata.tables.values():
                table.to_metadata(probe)
            probe.tables["sites"].append_column(Column("drift_probe", Integer))
            assert [d[0] for d in compare_metadata(context, probe)] == ["add_column"]
    finally:
        store.close()
    assert diffs == [], "the migrations and store/*tables.py disagree; add a migration"


def test_migration_0005_backfills_the_asset_facts_of_stored_sites(db_url: str) -> None:
    # A database that held sites before 0005 gets the check columns filled from each row's
    # JSON, so `check` sees the same facts as on a fresh import.
    from pathlib import Path

    from alembic import command

    from zonewarden.domain.site import AssetFacts
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import sites

    doc = load_site(Path(__file__).parents[2] / "examples" / "pharma-plant")
    store = open_store(db_url)
    sites.import_documents(store, [doc], principal=local_principal())
    cfg = _alembic_config(db_url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005@-1")
    assert "end_of_support" not in {c["name"] for c in inspect(store.engine).get_columns("assets")}
    store.close()
    store = open_store(db_url, migrate=False)
    upgrade(store.engine)  # `zonewarden db upgrade`: 0005 runs on the stored rows
    expected = [AssetFacts.of(a) for a in doc.assets]
    assert any(f.end_of_support for f in expected) and any(f.vendor_support.value != "unknown" for f in expected)
    assert sites.asset_facts(store, doc.site.id) == expected
    store.close()


def test_migration_0006_drops_the_stored_flat_form_and_downgrade_restores_it(db_url: str) -> None:
    # Advisories keep only the document; a downgrade (to a release that reads `flat`) fills the
    # column again from each document, and findings stay the same either way.
    from pathlib import Path

    import orjson
    from alembic import command
    from sqlalchemy import select

    from zonewarden.domain.advisories import FlatAdvisory
    from zonewarden.engines.products import flatten_advisory
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import advisories as svc
    from zonewarden.services import sites
    from zonewarden.store.advisory_tables import advisories

    root = Path(__file__).parents[2]
    store = open_store(db_url)
    sites.import_documents(store, [load_site(root / "examples" / "pharma-plant")], principal=local_principal())
    svc.ingest_bytes(store, svc.read_items(svc.iter_paths([root / "examples" / "advisories"])), principal=local_principal())
    before = [(f.tracking_id, f.asset_id, f.status, f.priority) for f in svc.list_findings(store, principal=local_principal())]
    assert "flat" not in {c["name"] for c in inspect(store.engine).get_columns("advisories")}
    cfg = _alembic_config(db_url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")  # 0006's parent (0008, which needs 0006, goes first)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT source, document, flat FROM advisories").all()
    assert len(rows) == 6
    for source, document, flat in rows:
        assert FlatAdvisory.model_validate_json(flat) == flatten_advisory(orjson.loads(document), source=source)
    store.close()
    store = open_store(db_url, migrate=False)
    upgrade(store.engine)  # `zonewarden db upgrade`: 0006 drops the column
    assert "flat" not in {c["name"] for c in inspect(store.engine).get_columns("advisories")}
    with store.read() as conn:
        assert len(conn.execute(select(advisories.c.id)).all()) == 6
    # Rematching reads every stored advisory from its document and finds nothing to change.
    counts = svc.rematch_site(store, "rheinfeld-os", principal=local_principal())
    assert (counts.created, counts.updated, counts.deactivated) == (0, 0, 0)
    assert [(f.tracking_id, f.asset_id, f.status, f.priority) for f in svc.list_findings(store, principal=local_principal())] == before
    store.close()


def test_migration_0008_moves_stored_explanations_and_findings_read_the_same(db_url: str) -> None:
    # Issue 17 speed 2: a database at 0006 + 0007 with findings upgrades; every finding reads as
    # before (message, CVEs, matches, product status), and identical explanations share one row.
    import datetime as dt

    from alembic import command
    from sqlalchemy import func, select

    from zonewarden.services import advisories as svc
    from zonewarden.services import findings_store
    from zonewarden.store.advisory_tables import finding_explanations

    store = open_store(db_url, migrate=False)
    cfg = _alembic_config(db_url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        command.upgrade(cfg, "0007")
    now = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    matches = [{"product_id": "CSAFPID-1", "product_name": "Drive \u00e9 5", "matched_on": "product", "range": "<= 2.1",
                "in_range": True, "conditions": [], "status": "affected", "cves": ["CVE-2026-1"], "message": "m"}]
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO advisories (tracking_id, version, title, sha256, source, strict, deviations, document, current, "
            "ingested_at) VALUES ('T-1', '1', 'Drives', 'aa', 'a.json', false, '[]', '{}', true, '2026-03-04 05:06:07')")
        (row_id,) = conn.exec_driver_sql("SELECT id FROM advisories").one()
        for i, (asset, text, ps) in enumerate([("d1", "same", "affected"), ("d2", "same", "affected"),
                                               ("d3", "other \u2603", "needs-review")]):
            conn.execute(
                findings_table_0007().insert().values(
                    site_id="s", tracking_id="T-1", advisory_row=row_id, asset_id=asset, zone_id="z", active=True,
                    status=ps, reason=None, message=text, cves=["CVE-2026-1"], matches=matches,
                    product_status={"CSAFPID-1": f"known_affected:{ps}"}, ssvc=None, overrides={}, priority=None,
                    priority_rank=None, triage_status="new", triage_owner=None, triage_expires=None,
                    created_at=now, updated_at=now + dt.timedelta(seconds=i)))
    store.close()
    store = open_store(db_url, migrate=False)
    upgrade(store.engine)  # `zonewarden db upgrade`: 0008 moves the explanations
    got = {f.asset_id: f for f in svc.list_findings(store, principal=local_principal())}
    assert sorted(got) == ["d1", "d2", "d3"]
    for asset, text in (("d1", "same"), ("d2", "same"), ("d3", "other \u2603")):
        f = svc.get_finding(store, got[asset].id, principal=local_principal())
        assert (f.message, f.cves, f.matches) == (text, ("CVE-2026-1",), tuple(matches))
    assert "message" not in {c["name"] for c in inspect(store.engine).get_columns("findings")}
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(finding_explanations)).scalar_one() == 2
        digests = set(conn.execute(select(finding_explanations.c.digest)).scalars())
    # The service finds the moved rows again (the same digest): nothing is stored twice.
    assert findings_store.explanation_digest("same", ["CVE-2026-1"], matches, {"CSAFPID-1": "known_affected:affected"}) in digests
    store.close()


def findings_table_0007():  # type: ignore[no-untyped-def]
    """The findings table as revisions 0002-0007 left it (for writing rows a release stored)."""
    import sqlalchemy as sa

    return sa.table(
        "findings", *(sa.column(c) for c in ("site_id", "tracking_id", "advisory_row", "asset_id", "zone_id", "status",
                                               "reason", "message", "priority", "priority_rank", "triage_status",
                                               "triage_owner")),
        sa.column("active", sa.Boolean), sa.column("triage_expires", sa.Date),
        sa.column("created_at", sa.DateTime(timezone=True)), sa.column("updated_at", sa.DateTime(timezone=True)),
        *(sa.column(c, sa.JSON) for c in ("cves", "matches", "product_status", "ssvc", "overrides")),
    )
