"""The audit trail searched and paged in the database, limited to what the caller may read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.errors import PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, audit_queries, sites
from zonewarden.services.audit_queries import EventFilter
from zonewarden.services.principal import ANY_SITE, Principal, local_principal


@pytest.fixture
def trail(store, mini_site_file: Path):  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    with store.transaction() as conn:
        for i in range(30):
            audit.append(conn, action=f"test.{'even' if i % 2 == 0 else 'odd'}", actor="alice" if i < 10 else "bob",
                         site_id="mini", object_id=f"o{i}", after={"i": i})
        audit.append(conn, action="login", actor="alice")  # no site: a security event
    return store


ADMIN = Principal(user_id="ada", method="token", roles={ANY_SITE: frozenset({"admin"})})
AUDITOR = Principal(user_id="aud", method="token", roles={"mini": frozenset({"auditor"})})
VIEWER = Principal(user_id="vic", method="token", roles={"mini": frozenset({"viewer"})})


def test_filters_paging_and_totals_come_from_the_database(trail) -> None:  # type: ignore[no-untyped-def]
    page = audit_queries.search(trail, AUDITOR, EventFilter(action="test."), limit=7, offset=7)
    assert page.total == 30 and len(page.items) == 7
    assert [e.object_id for e in page.items] == [f"o{i}" for i in range(7, 14)]
    odd_bob = audit_queries.search(trail, AUDITOR, EventFilter(action="test.odd", actor="bob"), limit=100)
    assert odd_bob.total == 10 and all(e.action == "test.odd" and e.actor == "bob" for e in odd_bob.items)
    newest = audit_queries.search(trail, AUDITOR, EventFilter(site_id="mini"), limit=1, newest_first=True)
    assert newest.items[0].object_id == "o29"
    one = audit_queries.search(trail, AUDITOR, EventFilter(object_id="o3"))
    assert [e.after for e in one.items] == [{"i": 3}]
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert audit_queries.search(trail, AUDITOR, EventFilter(since=future)).total == 0
    assert audit_queries.search(trail, AUDITOR, EventFilter(until=future, action="test.")).total == 30


def test_only_administrators_see_events_without_a_site_and_a_viewer_sees_nothing(trail) -> None:  # type: ignore[no-untyped-def]
    assert audit_queries.search(trail, ADMIN, EventFilter(action="login")).total == 1
    assert audit_queries.search(trail, AUDITOR, EventFilter(action="login")).total == 0
    assert audit_queries.search(trail, AUDITOR, EventFilter()).total == len(audit_queries.log(trail, AUDITOR))
    with pytest.raises(PermissionDenied):
        audit_queries.search(trail, VIEWER, EventFilter())
    # A prefix is a prefix, not a LIKE pattern: '%' and '_' match themselves only.
    assert audit_queries.search(trail, ADMIN, EventFilter(action="test%.")).total == 0
