from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, update

from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, sites
from zonewarden.services.principal import local_principal
from zonewarden.store.tables import audit_events


def _three_events(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        for i in range(3):
            audit.append(conn, action="test.event", actor=f"user{i}", site_id="mini", reason=f"step {i}", after={"i": i})


def test_intact_chain_verifies(store, mini_site_file) -> None:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    _three_events(store, mini_site_file)
    with store.read() as conn:
        result = audit.verify(conn)
    assert result.ok and result.events == 4


def test_edited_event_is_detected(store, mini_site_file) -> None:  # type: ignore[no-untyped-def]
    _three_events(store, mini_site_file)
    with store.transaction() as conn:
        conn.execute(update(audit_events).where(audit_events.c.seq == 2).values(reason="nothing to see"))
    with store.read() as conn:
        result = audit.verify(conn)
    assert not result.ok
    assert [p.seq for p in result.problems] == [2]
    assert "edited" in result.problems[0].message


def test_deleted_event_is_detected(store, mini_site_file) -> None:  # type: ignore[no-untyped-def]
    _three_events(store, mini_site_file)
    with store.transaction() as conn:
        conn.execute(delete(audit_events).where(audit_events.c.seq == 2))
    with store.read() as conn:
        result = audit.verify(conn)
    assert not result.ok and any("missing" in p.message for p in result.problems)


def test_deleting_the_newest_event_is_detected(store, mini_site_file) -> None:  # type: ignore[no-untyped-def]
    _three_events(store, mini_site_file)
    with store.transaction() as conn:
        conn.execute(delete(audit_events).where(audit_events.c.seq == 3))
    with store.read() as conn:
        result = audit.verify(conn)
    assert not result.ok and "newest events were deleted" in result.problems[0].message


def test_actor_comes_from_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Single-user mode (no accounts): the local principal is ZONEWARDEN_ACTOR or the OS user.
    from zonewarden.services.principal import local_principal

    monkeypatch.setenv("ZONEWARDEN_ACTOR", "j.doe@plant")
    assert local_principal().user_id == "j.doe@plant"
    assert local_principal().audit_fields == {"actor": "j.doe@plant", "context": {"method": "local", "client": "cli"}}


def test_an_event_without_an_actor_is_refused(store) -> None:  # type: ignore[no-untyped-def]
    import pytest

    with pytest.raises(ValueError, match="without an actor"), store.transaction() as conn:
        audit.append(conn, action="site.import", actor="")
