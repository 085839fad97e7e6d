"""Alembic environment: runs on the connection zonewarden hands over (see store.db.upgrade)."""

from __future__ import annotations

from alembic import context

import zonewarden.store.package_tables  # noqa: F401 - registers the package issue table on metadata
import zonewarden.store.psirt_tables  # noqa: F401 - registers the PSIRT tables on metadata
import zonewarden.store.sync_tables  # noqa: F401 - registers the CSAF sync tables on metadata
from zonewarden.store import (
    advisory_tables,  # noqa: F401 - registers the advisory tables on metadata
    sbom_tables,  # noqa: F401 - registers the SBOM and VEX tables on metadata
)
from zonewarden.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - zonewarden always passes a connection
    raise RuntimeError("run migrations through zonewarden.store.db.upgrade()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
