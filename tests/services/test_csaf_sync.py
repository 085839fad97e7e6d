"""``advisories sync`` end to end: a provider on 127.0.0.1, faults injected, state in the database.

Each fault case checks both halves of the promise: the run reports the file (and exits 1), and
the next run with the fault removed fetches exactly what is still missing and completes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import support_csaf_provider as S
from zonewarden.errors import InputError
from zonewarden.io.csaf.sync import SyncOptions
from zonewarden.services import audit
from zonewarden.services.csaf_sync import known_files, sources, sync
from zonewarden.services.principal import local_principal

FAST = SyncOptions(timeout=5, retries=1, backoff=0, workers=4, allow_insecure=True)
WHITE = "/csaf_files/OT/white/"


@pytest.fixture
def mirror(shared_data: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return S.cisa_mirror(shared_data, tmp_path / "site", n=30)


def _doc_gets(faults) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p for p in faults.gets(".json") if "/20" in p)


@pytest.mark.parametrize("entry", [S.FEED_NAME, "", "changes.csv"])
def test_first_sync_downloads_all_and_the_second_nothing(store, mirror, entry: str) -> None:  # type: ignore[no-untyped-def]
    ingest = S.FakeIngest()
    with S.serve(mirror.root) as (base, faults):
        url = base + WHITE + entry
        first = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert first.ok, first.failed
        assert (first.discovered, first.unchanged, first.downloaded) == (30, 0, 30)
        assert first.ingested == {"new": 30, "revision": 0, "unchanged": 0, "older": 0}
        assert len(_doc_gets(faults)) == 30
        assert sorted(ingest.calls) == [f"{base}{WHITE}{f}" for f in mirror.files]

        faults.requests.clear()
        second = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert second.ok
        assert (second.discovered, second.unchanged, second.downloaded) == (30, 30, 0)
        assert sum(second.ingested.values()) == 0
        # Listings only: no document, hash or signature was requested again.
        assert _doc_gets(faults) == []
        assert not [p for p, _ in faults.requests if p.endswith((".sha512", ".asc"))]
    state = known_files(store, url)
    assert len(state) == 30
    assert all(row["status"] == "ingested" and row["tracking_id"] for _k, row in state.values())


def test_a_changed_file_is_downloaded_again_and_ingested_as_a_revision(store, mirror) -> None:  # type: ignore[no-untyped-def]
    ingest = S.FakeIngest()
    with S.serve(mirror.root) as (base, faults):
        url = base + WHITE + S.FEED_NAME
        assert sync(store, url, ingest=ingest, options=FAST, principal=local_principal()).ok
        name = mirror.files[7]
        doc = json.loads((mirror.folder / name).read_bytes())
        tracking = doc["document"]["tracking"]
        old_version = tracking["version"]
        tracking["version"] = str(int(old_version.split(".")[0]) + 1)
        tracking["revision_history"].append(
            {"date": "2024-12-01T00:00:00.000Z", "number": tracking["version"], "summary": "changed"})
        tracking["current_release_date"] = "2024-12-01T00:00:00.000Z"
        mirror.rewrite(name, json.dumps(doc).encode(), time="2024-12-01T00:00:00.000000Z")

        faults.requests.clear()
        third = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert third.ok, third.failed
        assert (third.unchanged, third.downloaded) == (29, 1)
        assert third.ingested["revision"] == 1
        assert _doc_gets(faults) == [WHITE + name]
        changed = next(f for f in third.files if f.action == "ingested")
        assert changed.url.endswith(name) and changed.version == tracking["version"]
    row = known_files(store, url)[changed.url][1]
    assert row["updated"] == "2024-12-01T00:00:00.000000Z" and row["version"] == tracking["version"]


def test_a_new_time_with_the_same_bytes_is_unchanged(store, mirror) -> None:  # type: ignore[no-untyped-def]
    ingest = S.FakeIngest()
    with S.serve(mirror.root) as (base, faults):
        url = base + WHITE + "changes.csv"
        assert sync(store, url, ingest=ingest, options=FAST, principal=local_principal()).ok
        name = mirror.files[3]
        mirror.times[name] = "2030-01-01T00:00:00.000000Z"
        mirror.write_indexes()
        calls = len(ingest.calls)
        again = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert again.ok and (again.unchanged, again.downloaded) == (30, 0)
        assert len(ingest.calls) == calls  # nothing handed to ingest
        # The new time is remembered: the run after that does not even ask.
        faults.requests.clear()
        assert sync(store, url, ingest=ingest, options=FAST, principal=local_principal()).unchanged == 30
        assert _doc_gets(faults) == []


def test_missing_file_wrong_hash_and_dropped_connection_are_reported_and_resumed(store, mirror) -> None:  # type: ignore[no-untyped-def]
    ingest = S.FakeIngest()
    missing, corrupt, dropped = mirror.files[2], mirror.files[11], mirror.files[25]
    mirror.materialise(corrupt)
    good_hash = (mirror.folder / (corrupt + ".sha512")).read_text()
    (mirror.folder / (corrupt + ".sha512")).write_text("ab" * 64 + "  " + Path(corrupt).name)
    with S.serve(mirror.root) as (base, faults):
        faults.missing.add(WHITE + missing)
        faults.drop.add(WHITE + dropped)
        url = base + WHITE + S.FEED_NAME
        first = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert not first.ok
        assert first.ingested["new"] == 27 and first.downloaded == 27  # the corrupt copy does not count
        by_url = {f.url.removeprefix(base + WHITE): (f.stage, f.reason) for f in first.failed}
        assert set(by_url) == {missing, corrupt, dropped}
        assert by_url[missing] == ("download", "not found (HTTP 404)")
        assert by_url[corrupt][0] == "hash" and "sha512 mismatch" in by_url[corrupt][1]
        assert by_url[dropped][0] == "download" and "peer closed connection" in by_url[dropped][1]
        assert first.as_json()["failures"][0]["reason"]
        # Nothing of the three was recorded, and the corrupt copy never reached ingest.
        state = known_files(store, url)
        assert len(state) == 27
        assert not any(u.endswith((missing, corrupt, dropped)) for u in state)
        assert not any(c.endswith(corrupt) for c in ingest.calls)

        # The faults go away; the next run fetches exactly those three.
        faults.missing.clear()
        faults.drop.clear()
        (mirror.folder / (corrupt + ".sha512")).write_text(good_hash)
        faults.requests.clear()
        second = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert second.ok, second.failed
        assert (second.unchanged, second.downloaded) == (27, 3)
        assert second.ingested["new"] == 3
        assert _doc_gets(faults) == sorted(WHITE + n for n in (missing, corrupt, dropped))
        assert len(known_files(store, url)) == 30


def test_an_ingest_error_is_reported_and_retried(store, mirror) -> None:  # type: ignore[no-untyped-def]
    ingest = S.FakeIngest()
    with S.serve(mirror.root) as (base, _faults):
        url = base + WHITE + S.FEED_NAME
        victim = f"{base}{WHITE}{mirror.files[4]}"
        ingest.fail_on.add(victim)
        first = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert [(f.url, f.stage) for f in first.failed] == [(victim, "ingest")]
        assert "ingest crashed on this document" in (first.failed[0].reason or "")
        ingest.fail_on.clear()
        second = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert second.ok and second.downloaded == 1 and second.ingested["new"] == 1


def test_strict_rejections_are_remembered_until_the_mode_or_the_file_changes(store, mirror) -> None:  # type: ignore[no-untyped-def]
    ingest = S.FakeIngest()
    with S.serve(mirror.root) as (base, faults):
        url = base + WHITE + S.FEED_NAME
        strict = sync(store, url, ingest=ingest, options=FAST, strict=True, principal=local_principal())
        rejected = {f.url for f in strict.failed}
        # Real CISA advisories deviate from the standard: strict mode rejects some of them.
        assert rejected and all(f.stage == "ingest" and f.outcome == "rejected" for f in strict.failed)
        assert strict.ingested["new"] == 30 - len(rejected)
        faults.requests.clear()
        again = sync(store, url, ingest=ingest, options=FAST, strict=True, principal=local_principal())
        assert again.ok and again.unchanged == 30 and _doc_gets(faults) == []
        lenient = sync(store, url, ingest=ingest, options=FAST, principal=local_principal())
        assert lenient.ok and lenient.downloaded == len(rejected)
        assert lenient.ingested["new"] == len(rejected)


# --- our own signed provider ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys():  # type: ignore[no-untyped-def]
    publisher, stranger = S.Gpg("Test PSIRT <psirt@example.test>"), S.Gpg("Someone Else <x@example.test>")
    yield publisher, stranger
    publisher.close()
    stranger.close()


def _own_provider(root: Path, gpg, n: int = 5) -> list[str]:  # type: ignore[no-untyped-def]
    """A directory with index.txt only (no times): the sync must ask the server what changed."""
    folder = root / "csaf"
    rels = [f"2024/zw-test-{i:03d}.json" for i in range(1, n + 1)]
    for i, rel in enumerate(rels, start=1):
        S.write_signed(folder, rel, S.own_advisory(i), gpg)
    (folder / "index.txt").write_text("".join(r + "\n" for r in rels))
    return rels


def test_signed_provider_bad_and_missing_signatures_then_recovery(store, tmp_path: Path, keys) -> None:  # type: ignore[no-untyped-def]
    publisher, stranger = keys
    rels = _own_provider(tmp_path, publisher)
    folder = tmp_path / "csaf"
    ingest = S.FakeIngest()
    # zw-test-002: signed by someone else; zw-test-004: signature over other bytes; 005: no .asc
    S.write_signed(folder, rels[1], S.own_advisory(2), stranger)
    S.write_signed(folder, rels[3], S.own_advisory(4), None, signature=publisher.sign(b"something else"))
    (folder / (rels[4] + ".asc")).unlink()
    with S.serve(tmp_path) as (base, faults):
        url = base + "/csaf/index.txt"
        first = sync(store, url, ingest=ingest, key=publisher.public_key, options=FAST, principal=local_principal())
        assert first.signatures_checked
        fails = {f.url.rsplit("/", 1)[1]: (f.stage, f.reason) for f in first.failed}
        assert set(fails) == {"zw-test-002.json", "zw-test-004.json", "zw-test-005.json"}
        assert fails["zw-test-002.json"][0] == "signature" and "does not verify" in fails["zw-test-002.json"][1]
        assert fails["zw-test-004.json"][0] == "signature" and "BAD" in fails["zw-test-004.json"][1].upper()
        assert fails["zw-test-005.json"] == ("signature", f"{base}/csaf/{rels[4]}.asc: not found (HTTP 404)")
        assert first.ingested["new"] == 2
        assert sorted(ingest.held) == ["ZW-TEST-001", "ZW-TEST-003"]

        # The publisher fixes its signatures, and publishes revision 2 of advisory 3.
        S.write_signed(folder, rels[1], S.own_advisory(2), publisher)
        S.write_signed(folder, rels[3], S.own_advisory(4), publisher)
        S.write_signed(folder, rels[4], S.own_advisory(5), publisher)
        S.write_signed(folder, rels[2], S.own_advisory(3, "2"), publisher)
        faults.requests.clear()
        second = sync(store, url, ingest=ingest, key=publisher.public_key, options=FAST, principal=local_principal())
        assert second.ok, second.failed
        assert (second.unchanged, second.downloaded) == (1, 4)
        assert second.ingested == {"new": 3, "revision": 1, "unchanged": 0, "older": 0}
        # No times in index.txt: the unchanged one was asked with If-Modified-Since and got 304.
        asked = [h for p, h in faults.requests if p == f"/csaf/{rels[0]}"]
        assert len(asked) == 1 and "If-Modified-Since" in asked[0]

        faults.requests.clear()
        third = sync(store, url, ingest=ingest, key=publisher.public_key, options=FAST, principal=local_principal())
        assert third.ok and (third.unchanged, third.downloaded) == (5, 0)
        assert not [p for p, _ in faults.requests if p.endswith((".asc", ".sha512"))]


def test_full_resync_verifies_what_an_unsigned_sync_took_in(store, tmp_path: Path, keys) -> None:  # type: ignore[no-untyped-def]
    publisher, stranger = keys
    rels = _own_provider(tmp_path, publisher, n=3)
    S.write_signed(tmp_path / "csaf", rels[2], S.own_advisory(3), stranger)
    ingest = S.FakeIngest()
    with S.serve(tmp_path) as (base, _faults):
        url = base + "/csaf/"
        assert sync(store, url, ingest=ingest, options=FAST, principal=local_principal()).ok  # no key: nothing to notice
        assert sync(store, url, ingest=ingest, key=publisher.public_key, options=FAST, principal=local_principal()).downloaded == 0
        full = sync(store, url, ingest=ingest, key=publisher.public_key, full=True, options=FAST, principal=local_principal())
        assert full.downloaded == 2 and full.ingested["unchanged"] == 2  # the third fails its signature
        assert [(f.url.rsplit("/", 1)[1], f.stage) for f in full.failed] == [("zw-test-003.json", "signature")]
        # The suspect document lost its state: the next ordinary run checks it again.
        assert sorted(u.rsplit("/", 1)[1] for u in known_files(store, url)) == ["zw-test-001.json",
                                                                               "zw-test-002.json"]
        assert not sync(store, url, ingest=ingest, key=publisher.public_key, options=FAST, principal=local_principal()).ok
        S.write_signed(tmp_path / "csaf", rels[2], S.own_advisory(3), publisher)
        again = sync(store, url, ingest=ingest, key=publisher.public_key, options=FAST, principal=local_principal())
        assert again.ok and again.downloaded == 1 and again.ingested["unchanged"] == 1


def test_syncing_without_a_key_says_signatures_were_not_checked(store, tmp_path: Path, keys) -> None:  # type: ignore[no-untyped-def]
    rels = _own_provider(tmp_path, None, n=2)
    with S.serve(tmp_path) as (base, faults):
        report = sync(store, base + "/csaf/", ingest=S.FakeIngest(), options=FAST, principal=local_principal())
    assert report.ok and not report.signatures_checked and report.downloaded == 2
    assert not [p for p, _ in faults.requests if p.endswith(".asc")]
    assert {p for p, _ in faults.requests if p.endswith((".sha256", ".sha512"))} == {
        f"/csaf/{r}{s}" for r in rels for s in (".sha256", ".sha512")}


def test_each_run_is_one_audit_event_and_sources_are_listed(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _own_provider(tmp_path, None, n=2)
    with S.serve(tmp_path) as (base, _faults):
        url = base + "/csaf/"
        sync(store, url, ingest=S.FakeIngest(), options=FAST, principal=local_principal())
        sync(store, url, ingest=S.FakeIngest(), options=FAST, principal=local_principal())
    with store.read() as conn:
        events = [e for e in audit.events(conn) if e.action == "advisories.sync"]
        assert audit.verify(conn).ok
    assert [e.after["downloaded"] for e in events] == [2, 0]
    assert all(e.object_id == url for e in events)
    (src,) = sources(store)
    assert (src.url, src.kind, src.files) == (url, "directory", 2)
    assert src.last_report["unchanged"] == 2


def test_a_url_that_is_not_a_provider_is_an_input_error(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "www").mkdir()
    with S.serve(tmp_path / "www") as (base, _faults), pytest.raises(InputError, match="not a CSAF directory"):
        sync(store, base + "/nothing/", ingest=S.FakeIngest(), options=FAST, principal=local_principal())
    assert sources(store) == []


# --- the command, with the real ingest service --------------------------------------------------


def _cli(*args: str, db: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from zonewarden.cli.main import cli

    result = CliRunner().invoke(cli, ["advisories", "sync", *args, "--allow-insecure", "--db", db], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_sync_command_ingests_reports_and_exits_by_outcome(mirror, tmp_path: Path, keys) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services.advisories import list_advisories
    from zonewarden.store.db import open_store

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    with S.serve(mirror.root) as (base, faults):
        url = base + WHITE + S.FEED_NAME
        code, out, err = _cli(url, "--format", "json", "--retries", "0", db=db)
        assert code == 0, err
        report = json.loads(out)
        assert (report["kind"], report["discovered"], report["downloaded"]) == ("rolie", 30, 30)
        assert report["ingested"]["new"] == 30 and report["failures"] == []
        assert "signatures not checked" in err

        store = open_store(db)
        try:
            held = {a.tracking_id for a in list_advisories(store)}
        finally:
            store.close()
        assert len(held) == 30 and all(t.startswith("ICSA-23-") for t in held)

        # A changed file that the server now drops mid-body: reported, exit 1, in the table too.
        name = mirror.files[9]
        mirror.rewrite(name, (mirror.folder / name).read_bytes() + b"\n", time="2031-01-01T00:00:00.000000Z")
        faults.drop.add(WHITE + name)
        code, out, err = _cli(url, "--retries", "0", db=db)
        assert code == 1, out + err
        assert "peer closed connection" in out and "failed" in out and "retried on the next sync" in err
        faults.drop.clear()
        code, out, _ = _cli(url, "--format", "json", db=db)
        # Same advisory with a trailing newline: new bytes, but ingest knows the revision.
        assert code == 0 and json.loads(out)["downloaded"] == 1

        # --key with the CISA files: their signatures are not by our key, so every changed
        # document fails the check (CISA's key is not part of the shared data).
        publisher, _ = keys
        key = tmp_path / "psirt.asc"
        key.write_bytes(publisher.public_key)
        mirror.rewrite(name, (mirror.folder / name).read_bytes() + b"\n", time="2032-01-01T00:00:00.000000Z")
        code, out, err = _cli(url, "--key", str(key), "--format", "json", db=db)
        assert code == 1 and "signatures not checked" not in err
        (failure,) = json.loads(out)["failures"]
        assert failure["stage"] == "signature" and failure["url"].endswith(name)

        # Issue 18.4: with --full every document stored before signatures were checked is checked
        # now; the ones that fail are demoted (not current, no active findings), with a note.
        code, out, err = _cli(url, "--key", str(key), "--full", "--format", "json", db=db)
        assert code == 1
        failures = json.loads(out)["failures"]
        assert len(failures) == 30 and all(f["stage"] == "signature" for f in failures)
        # (the changed one was demoted by the run before, the first to check its signature)
        assert all("no longer current" in f["reason"] for f in failures if not f["url"].endswith(name))
        store = open_store(db)
        try:
            assert list_advisories(store) == []
        finally:
            store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ftp://127.0.0.1/csaf/",), "not an http(s) URL"),
        (("{base}/nothing/",), "neither changes.csv nor index.txt"),
        (("{base}/csaf/", "--key", "{tmp}/missing.asc"), "cannot read"),
        (("{base}/csaf/", "--key", "{tmp}/csaf/index.txt"), "no OpenPGP public key"),
        (("{base}/csaf/", "--jobs", "0"), "--jobs"),
        (("{base}/csaf/", "--proxy", "proxy.local"), "give a URL"),
    ],
)
def test_sync_command_bad_usage_exits_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    _own_provider(tmp_path, None, n=1)
    with S.serve(tmp_path) as (base, _faults):
        code, out, err = _cli(*(a.format(base=base, tmp=tmp_path) for a in args), db=f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2 and message in err and out == ""


def test_an_unreachable_provider_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port on 127.0.0.1 where nothing listens any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = f"sqlite:///{tmp_path / 'x.db'}"
    code, out, err = _cli(f"http://127.0.0.1:{port}/csaf/", "--retries", "1", db=db)
    assert code == 1 and out == ""
    assert "connection failed" in err and "gave up after 2 attempts" in err and "run again later" in err


def test_migration_0003_matches_the_table_definitions(store) -> None:  # type: ignore[no-untyped-def]
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData

    from zonewarden.store.sync_tables import csaf_sync_files, csaf_sync_sources

    mine = MetaData(naming_convention=csaf_sync_files.metadata.naming_convention)
    for table in (csaf_sync_sources, csaf_sync_files):
        table.to_metadata(mine)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), mine)
    assert [d for d in diff if _diff_table(d) in ("csaf_sync_sources", "csaf_sync_files")] == []


def _diff_table(d):  # type: ignore[no-untyped-def]
    """The table an Alembic autogenerate diff entry is about (other features' tables differ)."""
    op = (d[0] if isinstance(d, list) else d)
    kind, obj = op[0], op[1]
    if kind in ("add_table", "remove_table"):
        return obj.name
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return obj.table.name
    if kind in ("add_fk", "remove_fk"):
        return obj.parent.name
    return op[2]  # add_column, remove_column, modify_*: (kind, schema, table, ...)
