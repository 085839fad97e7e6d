"""The database for the front doors (CLI, API, jobs), which do not import the store themselves.

The store layer is the services' business: a front door opens the database here and hands the
:class:`Store` to service calls, without knowing its tables (the layering test holds the CLI to
that). Upgrading the schema is a deploy step of its own (``zonewarden db upgrade``), recorded in
the audit trail.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from zonewarden.services import audit
from zonewarden.store.db import SchemaState, Store, open_store, require_current, schema_state
from zonewarden.store.db import upgrade as _upgrade

__all__ = ["SchemaState", "Store", "UpgradeOutcome", "open_store", "open_for_serving", "schema_status",
           "upgrade_schema"]


@dataclass(frozen=True)
class UpgradeOutcome:
    before: SchemaState
    after: SchemaState
    audit_seq: int | None
    """The audit event of the upgrade (None when there was nothing to do)."""


def schema_status(url: str | None) -> SchemaState:
    """Where the database's schema stands; opening for this changes nothing."""
    store = open_store(url, migrate=False)
    try:
        return schema_state(store.engine)
    finally:
        store.close()


def upgrade_schema(url: str | None) -> UpgradeOutcome:
    """Run the pending migrations (one transaction, one migrator at a time) and record who did it.

    No principal: this runs before the accounts' tables are current, by whoever holds the
    database's own credentials; the event names the operating-system user."""
    store = open_store(url, migrate=False)
    try:
        before, after = _upgrade(store.engine)
        if before.current:
            return UpgradeOutcome(before, after, None)
        with store.transaction() as conn:
            event = audit.append(conn, action="db.upgrade", actor=f"os:{getpass.getuser()}",
                                 object_type="schema", before=sorted(before.stored), after=sorted(after.stored),
                                 context={"method": "database-credentials", "client": "cli"})
        return UpgradeOutcome(before, after, event.seq)
    finally:
        store.close()


def open_for_serving(url: str | None) -> Store:
    """The database for a long-running server: never migrated on open; a schema that is not this
    version's is refused (``zonewarden db upgrade`` first)."""
    store = open_store(url, migrate=False)
    try:
        require_current(store)
    except Exception:
        store.close()
        raise
    return store
