"""Signed audit checkpoints detect a consistent rewrite of the whole chain (issue 12 §8)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from zonewarden.cli.main import cli
from zonewarden.errors import InputError
from zonewarden.services import audit, checkpoints
from zonewarden.services.principal import local_principal
from zonewarden.store.tables import audit_events, audit_head


def _events(store, n: int) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        for i in range(n):
            audit.append(conn, action="test.write", actor="alice", object_id=str(i), after={"i": i})


def _rewrite(store, seq: int) -> None:  # type: ignore[no-untyped-def]
    """Edit event ``seq`` and recompute every hash after it and the head, as an attacker with
    database write access would: the chain alone then verifies."""
    with store.transaction() as conn:
        evs = list(audit.events(conn))
        prev = audit.GENESIS
        for ev in evs:
            after = {"i": "forged"} if ev.seq == seq else ev.after
            digest = audit.event_hash(prev, ev.seq, ev.at, ev.actor, ev.action, ev.site_id, ev.object_type,
                                      ev.object_id, ev.reason, ev.before, after, ev.context)
            conn.execute(update(audit_events).where(audit_events.c.seq == ev.seq)
                         .values(after=after, prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(update(audit_head).values(hash=prev))


@pytest.fixture
def key(tmp_path: Path) -> bytes:
    path = tmp_path / "cp.key"
    checkpoints.keygen(path)
    return checkpoints.load_key(path)


def _checkpoint(store, key: bytes, out: Path) -> Path:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        path, written = checkpoints.checkpoint(conn, key, out, principal=local_principal())
    assert written
    return path


def test_keygen_mode_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k"
    checkpoints.keygen(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    with pytest.raises(InputError, match="refusing to overwrite"):
        checkpoints.keygen(path)
    assert path.read_text() == before


def test_intact_log_verifies_and_later_events_are_fine(store, key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(store, 3)
    path = _checkpoint(store, key, tmp_path / "out")
    _events(store, 2)
    with store.read() as conn:
        result = checkpoints.verify(conn, checkpoints.read(path), key)
    assert result.ok, result.problems
    assert result.checkpoint.seq == 4  # three writes and the checkpoint event itself
    assert result.events == 6


def test_consistent_rewrite_is_detected_with_the_seq(store, key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(store, 5)
    path = _checkpoint(store, key, tmp_path / "out")
    _rewrite(store, 2)
    with store.read() as conn:
        assert audit.verify(conn).ok  # the chain alone cannot tell
        result = checkpoints.verify(conn, checkpoints.read(path), key)
    assert not result.ok
    assert any("event 6" in p and "rewritten" in p for p in result.problems), result.problems


def test_truncation_is_detected(store, key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(store, 5)
    path = _checkpoint(store, key, tmp_path / "out")
    with store.transaction() as conn:
        conn.execute(delete(audit_events).where(audit_events.c.seq > 3))
        last = list(audit.events(conn))[-1]
        conn.execute(update(audit_head).values(seq=3, hash=last.hash))
    with store.read() as conn:
        assert audit.verify(conn).ok
        result = checkpoints.verify(conn, checkpoints.read(path), key)
    assert any("fewer than the 6" in p for p in result.problems), result.problems


def test_wrong_key_and_tampered_file(store, key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(store, 2)
    path = _checkpoint(store, key, tmp_path / "out")
    other = tmp_path / "other.key"
    checkpoints.keygen(other)
    with store.read() as conn:
        result = checkpoints.verify(conn, checkpoints.read(path), checkpoints.load_key(other))
        assert any("another key" in p for p in result.problems)
        path.write_text(path.read_text().replace('"seq":3', '"seq":2'))
        result = checkpoints.verify(conn, checkpoints.read(path), key)
        assert any("bad signature" in p for p in result.problems), result.problems


def test_checkpoint_is_idempotent(store, key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _events(store, 1)
    first = _checkpoint(store, key, tmp_path / "out")
    with store.transaction() as conn:
        again, written = checkpoints.checkpoint(conn, key, tmp_path / "out", principal=local_principal())
    assert (again, written) == (first, False)
    assert len(list((tmp_path / "out").iterdir())) == 1


def test_cli_checkpoint_and_verify(db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.store.db import open_store

    runner = CliRunner()
    keyf, out = tmp_path / "k", tmp_path / "out"
    assert runner.invoke(cli, ["audit", "keygen", str(keyf)]).exit_code == 0
    assert runner.invoke(cli, ["audit", "keygen", str(keyf)]).exit_code == 2
    s = open_store(db_url)
    _events(s, 3)
    res = runner.invoke(cli, ["audit", "checkpoint", "--key", str(keyf), "--out", str(out), "--db", db_url])
    assert res.exit_code == 0, res.output
    [cp] = list(out.iterdir())
    args = ["audit", "verify", "--checkpoint", str(cp), "--key", str(keyf), "--db", db_url]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0 and "matches checkpoint" in res.output, res.output
    _rewrite(s, 1)
    s.close()
    res = runner.invoke(cli, args)
    assert res.exit_code == 1
    assert "event 4" in res.output and "BROKEN" in res.output
    res = runner.invoke(cli, ["audit", "verify", "--checkpoint", str(cp), "--db", db_url])
    assert res.exit_code == 2 and "--key" in res.output


def test_writing_a_checkpoint_is_for_administrators_and_verifying_for_auditors(store, key, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.errors import PermissionDenied
    from zonewarden.services.principal import ANY_SITE, Principal

    _events(store, 2)
    engineer = Principal(user_id="erik", method="token", roles={ANY_SITE: frozenset({"engineer"})})
    viewer = Principal(user_id="vic", method="token", roles={ANY_SITE: frozenset({"viewer"})})
    admin = Principal(user_id="ada", method="token", roles={ANY_SITE: frozenset({"admin"})})
    with pytest.raises(PermissionDenied, match="audit.checkpoint needs one of the roles: admin"):
        checkpoints.write_checkpoint(store, key, tmp_path / "cp", principal=engineer)
    path, written = checkpoints.write_checkpoint(store, key, tmp_path / "cp", principal=admin)
    assert written
    assert checkpoints.verify_file(store, path, key, principal=engineer).ok  # engineers may audit
    with pytest.raises(PermissionDenied):
        checkpoints.verify_file(store, path, key, principal=viewer)
    with store.read() as conn:
        denied = [e for e in audit.events(conn) if e.action == "access.denied"]
    assert [e.actor for e in denied] == ["erik", "vic"]
