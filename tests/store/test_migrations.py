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
        command.downgrade(cfg, "0006@-1")
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
