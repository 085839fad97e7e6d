from __future__ import annotations

from importlib import resources

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from zonewarden.store.db import _alembic_config, expected_heads, open_store
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
    sites.import_documents(store, [doc])
    cfg = _alembic_config(db_url)
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005@-1")
    assert "end_of_support" not in {c["name"] for c in inspect(store.engine).get_columns("assets")}
    store.close()
    store = open_store(db_url)  # upgrades again: 0005 runs on the stored rows
    expected = [AssetFacts.of(a) for a in doc.assets]
    assert any(f.end_of_support for f in expected) and any(f.vendor_support.value != "unknown" for f in expected)
    assert sites.asset_facts(store, doc.site.id) == expected
    store.close()
