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
