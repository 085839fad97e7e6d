"""`audit verify` covers the data: each event records the digest of the site state it produced,
and verify compares the stored sites with the newest of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from zonewarden.domain.requirements import RequirementStatus, Status
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, sites
from zonewarden.services.principal import local_principal
from zonewarden.services.requirements import set_requirement_status
from zonewarden.store.tables import audit_events, audit_head, site_records


@pytest.fixture
def site_id(store, mini_site_file: Path) -> str:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    for req in ("SR 1.1", "SR 1.2"):
        set_requirement_status(store, "mini", RequirementStatus(target="cell", requirement=req, status=Status.PARTIAL),
                              principal=local_principal())
    return "mini"


def verify(store):  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return audit.verify(conn)


def test_intact_log_and_data_verify(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    result = verify(store)
    assert result.ok, result.problems
    with store.read() as conn:
        last = list(audit.events(conn))[-1]
    assert last.context and last.context[audit.SITE_DIGEST] == sites.revision_of(store, site_id)


def test_deleting_newest_events_and_fixing_head_is_reported(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        evs = list(audit.events(conn))
        keep = evs[-2]
        conn.execute(delete(audit_events).where(audit_events.c.seq == evs[-1].seq))
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=keep.seq, hash=keep.hash))
    result = verify(store)
    assert not result.ok
    assert any("'mini'" in p.message and f"event {keep.seq}" in p.message for p in result.problems), result.problems


def test_deleting_all_events_while_sites_remain_is_reported(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        conn.execute(delete(audit_events))
        conn.execute(delete(audit_head))
    result = verify(store)
    assert not result.ok
    assert any("'mini'" in p.message and "no event" in p.message for p in result.problems)


def test_editing_a_data_table_is_reported(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        t = site_records.c
        row = conn.execute(select(t.seq, t.data).where(t.section == "requirements", t.seq == 0)).first()
        data = {**row.data, "status": "implemented"}
        conn.execute(update(site_records).where(t.section == "requirements", t.seq == 0).values(data=data))
    result = verify(store)
    assert not result.ok
    assert any("'mini'" in p.message and "edited directly" in p.message for p in result.problems)


def test_old_chain_without_digests_still_verifies(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    # Rebuild the log as an older version wrote it: the same events, no digests in the context.
    with store.transaction() as conn:
        evs = list(audit.events(conn))
        conn.execute(delete(audit_events))
        conn.execute(delete(audit_head))
        audit.append_many(conn, [
            dict(action=e.action, actor=e.actor, site_id=e.site_id, object_type=e.object_type,
                 object_id=e.object_id, reason=e.reason, before=e.before, after=e.after, at=e.at)
            for e in evs
        ])
    result = verify(store)
    assert result.ok, result.problems
