"""Concurrent writers of one site: every change lands (none is lost) and the audit log records
exactly the changes that committed; a write that names a stale revision changes nothing."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from zonewarden.domain.requirements import RequirementStatus, Status
from zonewarden.errors import StaleRevisionError
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, sites
from zonewarden.services.principal import local_principal
from zonewarden.services.requirements import set_requirement_status
from zonewarden.store.db import open_store

N = 6
REQUIREMENTS = [f"SR 1.{i}" for i in range(1, N + 1)]


@pytest.fixture
def site_id(store, tmp_path: Path, mini_site_file: Path) -> str:  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(mini_site_file)], principal=local_principal())
    return "mini"


def _set(store, requirement: str) -> None:  # type: ignore[no-untyped-def]
    st = RequirementStatus(target="cell", requirement=requirement, status=Status.IMPLEMENTED)
    set_requirement_status(store, "mini", st, principal=local_principal(name="ann"), reason=f"set {requirement}")


def _set_in_process(url: str, requirement: str) -> None:
    store = open_store(url)
    try:
        _set(store, requirement)
    finally:
        store.close()


def _check_all_landed(store) -> None:  # type: ignore[no-untyped-def]
    doc = sites.load_document(store, "mini")
    assert sorted(r.requirement for r in doc.requirements) == sorted(REQUIREMENTS)
    with store.read() as conn:
        result = audit.verify(conn)
        evs = [e for e in audit.events(conn) if e.action == "requirement.set-status"]
    assert result.ok, result.problems
    assert sorted(e.object_id for e in evs) == sorted(f"cell/{r}" for r in REQUIREMENTS)


def test_concurrent_threads_lose_no_update(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(N)
    errors: list[BaseException] = []

    def run(req: str) -> None:
        barrier.wait()
        try:
            _set(store, req)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in REQUIREMENTS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    _check_all_landed(store)


def test_concurrent_processes_lose_no_update(store, db_url: str, site_id: str) -> None:  # type: ignore[no-untyped-def]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_set_in_process, args=(db_url, r)) for r in REQUIREMENTS]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    assert [p.exitcode for p in procs] == [0] * N
    _check_all_landed(store)


def test_stale_revision_is_refused_and_changes_nothing(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    rev = sites.revision_of(store, site_id)
    _set(store, "SR 1.1")
    current = sites.revision_of(store, site_id)
    assert current != rev
    with store.read() as conn:
        before = list(audit.events(conn))
    stale = RequirementStatus(target="cell", requirement="SR 1.2", status=Status.PARTIAL)
    with pytest.raises(StaleRevisionError) as info:
        set_requirement_status(store, site_id, stale, principal=local_principal(name="ann"), expected_revision=rev)
    assert info.value.current == current and current in str(info.value)
    assert sites.revision_of(store, site_id) == current
    with store.read() as conn:
        assert list(audit.events(conn)) == before
    # the current revision is accepted
    set_requirement_status(store, site_id, stale, principal=local_principal(name="ann"), expected_revision=current)
    assert sites.revision_of(store, site_id) != current


def _csv_import_in_process(url: str, csv_path: str) -> None:
    from click.testing import CliRunner

    from zonewarden.cli.main import cli

    result = CliRunner().invoke(cli, ["import", "--from", "csv", csv_path], env={"ZONEWARDEN_DB": url})
    if result.exit_code != 0:
        raise SystemExit(f"exit {result.exit_code}: {result.stderr}")


def test_concurrent_csv_imports_lose_no_asset(store, db_url: str, site_id: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Four asset CSVs merged at once: every merge lands, or is refused and changes nothing."""
    before = {a.id for a in sites.load_document(store, site_id).assets}
    files = []
    for i in range(4):
        f = tmp_path / f"a{i}.csv"
        f.write_text(f"id,name,type,zone\nnew-{i},New {i},plc,cell\n", encoding="utf-8")
        files.append(str(f))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_csv_import_in_process, args=(db_url, f)) for f in files]
    for p in procs:
        p.start()
    for p in procs:
        p.join(180)
    # Each merge is stamped with the revision it read: one that lost the race is refused
    # (exit != 0) and adds nothing; none is silently overwritten.
    landed = {f"new-{i}" for i, p in enumerate(procs) if p.exitcode == 0}
    assert landed
    after = {a.id for a in sites.load_document(store, site_id).assets}
    assert after - before == landed
    with store.read() as conn:
        result = audit.verify(conn)
    assert result.ok, result.problems
