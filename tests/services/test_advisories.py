"""Advisory services on SQLite and PostgreSQL: ingest, revisions, findings on the example plant
(with the project's own example advisories and with CISA's real ones), triage, SSVC, KEV."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from zonewarden.errors import ConflictError, InputError, NotFoundError
from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services import audit
from zonewarden.services.exposure import asset_exposures
from zonewarden.services.principal import local_principal
from zonewarden.services.sites import import_documents
from zonewarden.store.advisory_tables import advisories, findings, triage_decisions
from zonewarden.store.tables import audit_events

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "examples" / "pharma-plant"
EXAMPLES = ROOT / "examples" / "advisories"
CISA = ("csaf", "cisa-ics", "csaf_files", "OT", "white")
TODAY = dt.date(2026, 11, 25)


def _plant(store) -> None:  # type: ignore[no-untyped-def]
    import_documents(store, [load_site(PLANT)], reason="test", principal=local_principal())


def _examples(store, strict: bool = True) -> svc.IngestReport:  # type: ignore[no-untyped-def]
    return svc.ingest_bytes(store, svc.read_items(svc.iter_paths([EXAMPLES])), strict=strict, principal=local_principal())


def _finding(store, advisory: str, asset: str) -> svc.FindingRow:  # type: ignore[no-untyped-def]
    (f,) = [f for f in svc.list_findings(store, advisory=advisory, principal=local_principal()) if f.asset_id == asset]
    return f


def _doc(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1).encode()


def _count(store, table) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- the example advisories -------------------------------------------------------------------


def test_example_advisories_show_every_status_on_the_example_plant(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    report = _examples(store, strict=True)
    assert [r.outcome for r in report.results] == ["new"] * 6
    assert all(r.deviations == 0 and r.error is None for r in report.results)
    expected = {
        ("ZW-EXAMPLE-2026-001", "dmz-sw-1"): ("affected", None),
        ("ZW-EXAMPLE-2026-001", "sup-sw-1"): ("fixed", None),
        ("ZW-EXAMPLE-2026-001", "lab-sw-1"): ("fixed", None),
        ("ZW-EXAMPLE-2026-002", "comp-plc-p1"): ("affected", None),
        ("ZW-EXAMPLE-2026-002", "comp-plc-p2"): ("not-affected", None),
        ("ZW-EXAMPLE-2026-002", "comp-safety-p1"): ("not-affected", None),
        ("ZW-EXAMPLE-2026-003", "pw-plc-gen"): ("affected", None),
        ("ZW-EXAMPLE-2026-003", "ops-power-mon"): ("needs-review", "unparseable-range"),
        ("ZW-EXAMPLE-2026-004", "ops-mes-term-1"): ("needs-review", "no-asset-version"),
        ("ZW-EXAMPLE-2026-005", "bms-nae-1"): ("affected", None),
        ("ZW-EXAMPLE-2026-005", "bms-nae-3"): ("not-affected", None),
        ("ZW-EXAMPLE-2026-006", "pack-ewon"): ("affected", None),
    }
    got = {(f.tracking_id, f.asset_id): (f.status, f.reason) for f in svc.list_findings(store, principal=local_principal())}
    for key, value in expected.items():
        assert got[key] == value, key
    assert report.findings_created == len(got) == 16
    # Why it matched: the deciding entry, its range as understood and the asset's version.
    f = _finding(store, "ZW-EXAMPLE-2026-001", "dmz-sw-1")
    (m,) = [m for m in f.matches if m["status"] == "affected"]
    assert (m["product_id"], m["asset_version"], m["in_range"], m["group"]) == ("CSAFPID-0001", "V4.4", True, "known_affected")
    assert "V4.4" in f.message and "vers:intdot/<4.5" in f.message
    # Not-affected and fixed findings carry no priority; affected and needs-review do.
    assert _finding(store, "ZW-EXAMPLE-2026-002", "comp-plc-p2").priority is None
    assert _finding(store, "ZW-EXAMPLE-2026-004", "ops-mes-term-1").priority == "scheduled"


def test_ssvc_inputs_are_sourced(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    _examples(store)
    ewon = _finding(store, "ZW-EXAMPLE-2026-006", "pack-ewon")
    s = ewon.ssvc
    assert s is not None and ewon.priority == "immediate" == s["priority"]
    assert s["exploitation"]["value"] == "active" and "/document/notes/1/text" in s["exploitation"]["source"]
    assert s["exposure"]["value"] == "open" and "c-ext-pack" in s["exposure"]["source"]
    assert s["automatable"]["value"] == "yes" and "AV:N/AC:L/PR:N/UI:N" in s["automatable"]["source"]
    assert s["human_impact"]["value"] == "high"
    plc = _finding(store, "ZW-EXAMPLE-2026-002", "comp-plc-p1").ssvc
    assert plc is not None
    assert plc["exploitation"]["value"] == "public-poc"
    assert plc["exposure"]["value"] == "small" and plc["mission_impact"]["source"] == "asset comp-plc-p1: mission_impact"


def test_exposure_from_zones_and_conduits() -> None:
    exp = asset_exposures(load_site(PLANT))
    assert exp["pack-ewon"].value == "open"  # OEM VPN from the internet lands in the cell
    assert exp["ra-sra"].value == "open"
    assert exp["dmz-sw-1"].value == "controlled"
    assert exp["ops-mes-app"].value == "controlled" and "c-dmz-ops" in exp["ops-mes-app"].source
    assert exp["gran-plc-hsg"].value == "small"
    assert exp["sis-plc-fbd"].value == "small"
    assert exp["pack-tool-laptop"].value == "open" and "no zone" in exp["pack-tool-laptop"].source


# --- revisions, idempotence ---------------------------------------------------------------------


def test_reingest_of_the_same_bytes_changes_nothing(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    _examples(store)
    events, rows, found = _count(store, audit_events), _count(store, advisories), _count(store, findings)
    again = _examples(store)
    assert [r.outcome for r in again.results] == ["unchanged"] * 6
    assert (again.findings_created, again.findings_updated) == (0, 0)
    assert (_count(store, audit_events), _count(store, advisories), _count(store, findings)) == (events, rows, found)


def test_revision_supersedes_keeps_history_and_reopens_changed_decisions(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    _examples(store)
    f = _finding(store, "ZW-EXAMPLE-2026-001", "dmz-sw-1")
    svc.decide(store, f.id, "under-assessment", "checking the switch firmware", principal=local_principal(name="ann"), today=TODAY)
    svc.decide(store, f.id, "remediation-planned", "update in the December window", principal=local_principal(name="ann"), today=TODAY)
    untouched = _finding(store, "ZW-EXAMPLE-2026-005", "bms-nae-1")
    svc.decide(store, untouched.id, "under-assessment", "asking the BMS contractor", principal=local_principal(name="ann"), today=TODAY)
    svc.decide(store, untouched.id, "remediation-planned", "contractor visit booked", principal=local_principal(name="ann"), today=TODAY)

    # Revision 2: the vendor narrows the range; V4.4 is no longer affected.
    doc = _doc("zw-example-2026-001.json")
    doc["document"]["tracking"]["version"] = "2"
    doc["document"]["tracking"]["current_release_date"] = "2026-10-01T10:00:00.000Z"
    doc["document"]["tracking"]["revision_history"].append(
        {"date": "2026-10-01T10:00:00.000Z", "number": "2", "summary": "Only versions before V4.3 are affected."}
    )
    leaf = doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]
    leaf["name"] = "vers:intdot/<4.3"
    report = svc.ingest_bytes(store, [("rev2.json", _bytes(doc))], strict=True, principal=local_principal(name="feed"))
    (r,) = report.results
    assert (r.outcome, r.version) == ("revision", "2") and report.reopened == 1

    history = svc.advisory_history(store, "ZW-EXAMPLE-2026-001")
    assert [(a.version, a.current) for a in history] == [("1", False), ("2", True)]
    after = svc.get_finding(store, f.id, principal=local_principal())
    assert after.status == "not-affected" and after.advisory_version == "2"
    assert after.triage_status == "under-assessment"
    last = after.decisions[-1]
    assert last.automatic and last.actor == "zonewarden" and last.from_status == "remediation-planned"
    assert "affected -> not-affected" in last.why
    # An advisory whose product status did not change keeps its decision.
    assert svc.get_finding(store, untouched.id, principal=local_principal()).triage_status == "remediation-planned"

    # An older version arriving late is kept as history and changes no finding.
    old = _doc("zw-example-2026-001.json")
    old["document"]["notes"][1]["text"] += " (re-published copy)"
    (r,) = svc.ingest_bytes(store, [("late-v1.json", _bytes(old))], principal=local_principal()).results
    assert r.outcome == "older"
    assert [a.current for a in svc.advisory_history(store, "ZW-EXAMPLE-2026-001")] == [False, False, True]
    assert svc.get_finding(store, f.id, principal=local_principal()).advisory_version == "2"
    with store.read() as conn:
        assert audit.verify(conn).ok
        actions = [e.action for e in audit.events(conn)]
    assert "finding.reopen" in actions


def test_revisions_and_twins_inside_one_batch(store) -> None:  # type: ignore[no-untyped-def]
    # Ingest stores a chunk of documents per transaction: a revision later in the same chunk
    # must supersede the row an earlier document of the chunk inserted, and the same bytes
    # twice in one batch are stored once.
    _plant(store)
    v1 = _bytes(_doc("zw-example-2026-001.json"))
    doc = _doc("zw-example-2026-001.json")
    doc["document"]["tracking"]["version"] = "2"
    doc["document"]["tracking"]["current_release_date"] = "2026-10-01T10:00:00.000Z"
    doc["document"]["tracking"]["revision_history"].append(
        {"date": "2026-10-01T10:00:00.000Z", "number": "2", "summary": "Only versions before V4.3 are affected."}
    )
    doc["product_tree"]["branches"][0]["branches"][0]["branches"][0]["name"] = "vers:intdot/<4.3"
    report = svc.ingest_bytes(store, [("v1.json", v1), ("v2.json", _bytes(doc)), ("v1-copy.json", v1)], strict=True, principal=local_principal())
    assert [r.outcome for r in report.results] == ["new", "revision", "unchanged"]
    history = svc.advisory_history(store, "ZW-EXAMPLE-2026-001")
    assert [(a.version, a.current) for a in history] == [("1", False), ("2", True)]
    f = _finding(store, "ZW-EXAMPLE-2026-001", "dmz-sw-1")
    assert (f.status, f.advisory_version) == ("not-affected", "2")
    assert _count(store, advisories) == 2
    with store.read() as conn:
        assert audit.verify(conn).ok
        assert [e.after["outcome"] for e in audit.events(conn) if e.action == "advisory.ingest"] == ["new", "revision"]


def test_a_document_the_database_refuses_does_not_take_its_chunk_with_it(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import DataError

    _plant(store)
    real_write = svc._Batch._write

    def refusing(self, conn, docs):  # type: ignore[no-untyped-def]
        if any(p.source.endswith("zw-example-2026-003.json") for p in docs):
            raise DataError("INSERT ...", {}, Exception("value too long for type character varying(500)"))
        return real_write(self, conn, docs)

    monkeypatch.setattr(svc._Batch, "_write", refusing)
    report = _examples(store)
    outcomes = {Path(r.source).name: r.outcome for r in report.results}
    assert outcomes.pop("zw-example-2026-003.json") == "rejected"
    assert set(outcomes.values()) == {"new"} and len(outcomes) == 5
    (bad,) = [r for r in report.results if r.outcome == "rejected"]
    assert "the database refused a value" in (bad.error or "")
    assert _count(store, advisories) == 5
    assert "ZW-EXAMPLE-2026-003" not in {f.tracking_id for f in svc.list_findings(store, principal=local_principal())}
    with store.read() as conn:
        assert audit.verify(conn).ok
        assert len([e for e in audit.events(conn) if e.action == "advisory.ingest"]) == 5
    # Once the database takes it, the refused document goes in on the next run.
    monkeypatch.setattr(svc._Batch, "_write", real_write)
    again = _examples(store)
    assert sorted(r.outcome for r in again.results) == ["new"] + ["unchanged"] * 5


def test_a_copy_of_a_refused_document_is_not_reported_unchanged(store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The same bytes twice in one batch are stored once; when the database refuses the first
    # copy, the second was not stored either and must say so.
    from sqlalchemy.exc import DataError

    real_write = svc._Batch._write

    def refusing(self, conn, docs):  # type: ignore[no-untyped-def]
        if any(p.tracking_id == "ZW-EXAMPLE-2026-003" for p in docs):
            raise DataError("INSERT ...", {}, Exception("value too long for type character varying(500)"))
        return real_write(self, conn, docs)

    monkeypatch.setattr(svc._Batch, "_write", refusing)
    data = (EXAMPLES / "zw-example-2026-003.json").read_bytes()
    other = (EXAMPLES / "zw-example-2026-001.json").read_bytes()
    items = [("a/003.json", data), ("b/001.json", other), ("b/003.json", data), ("c/001.json", other)]
    report = svc.ingest_bytes(store, items, principal=local_principal())
    assert [(r.source, r.outcome) for r in report.results] == [
        ("a/003.json", "rejected"), ("b/001.json", "new"), ("b/003.json", "rejected"), ("c/001.json", "unchanged"),
    ]
    assert "the same bytes as a/003.json, which was not stored" in (report.results[2].error or "")
    assert _count(store, advisories) == 1


def test_version_order() -> None:
    keys = ["1", "2", "10", "1.0.0-rc.1", "1.0.0", "1.2.0", "2.0.0-alpha", "not a version"]
    ordered = sorted(keys, key=svc.version_key)
    # Integer "1" and semver "1.0.0" are the same version (stable sort keeps input order).
    assert ordered == ["not a version", "1.0.0-rc.1", "1", "1.0.0", "1.2.0", "2.0.0-alpha", "2", "10"]
    assert svc.version_key("2") > svc.version_key("1.9.9")
    assert svc.version_key("not a version") < svc.version_key("0")


# --- bad input ------------------------------------------------------------------------------------


def test_a_bad_directory_reports_each_file_and_stores_only_good_ones(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    feed = tmp_path / "feed" / "white" / "2026"
    feed.mkdir(parents=True)
    good = (EXAMPLES / "zw-example-2026-002.json").read_bytes()
    (feed / "zw-example-2026-002.json").write_bytes(good)
    (feed / "zw-example-2026-002.json.sha512").write_text("0" * 128 + "  zw-example-2026-002.json\n")
    (feed / "zw-example-2026-002.json.asc").write_text("-----BEGIN PGP SIGNATURE-----\n")
    (feed / "truncated.json").write_bytes(good[: len(good) // 2])
    (feed / "not-csaf.json").write_text('{"hello": "world"}')
    (feed / "array.json").write_text("[1, 2, 3]")
    wrong = _doc("zw-example-2026-003.json")
    wrong["product_tree"] = "not an object"
    (feed / "wrong-type.json").write_bytes(_bytes(wrong))
    (feed / "README.txt").write_text("not json at all")
    (tmp_path / "feed" / "provider-metadata.json").write_text("{}")

    files = svc.iter_paths([tmp_path / "feed"])
    assert sorted(p.name for p in files) == [
        "array.json", "not-csaf.json", "truncated.json", "wrong-type.json", "zw-example-2026-002.json",
    ]
    seen: list[int] = []
    report = svc.ingest_bytes(store, svc.read_items(files), progress=seen.append, principal=local_principal())
    assert sum(seen) == 5
    by = {Path(r.source).name: r for r in report.results}
    assert by["zw-example-2026-002.json"].outcome == "new"
    for name, where in [
        ("truncated.json", "not well-formed JSON"),
        ("not-csaf.json", "/document"),
        ("array.json", "top level is a JSON list"),
        ("wrong-type.json", "/product_tree"),
    ]:
        r = by[name]
        assert r.outcome == "rejected" and r.error is not None
        assert name in r.error and where in r.error, r.error
    assert _count(store, advisories) == 1
    assert {f.tracking_id for f in svc.list_findings(store, principal=local_principal())} == {"ZW-EXAMPLE-2026-002"}


def test_strict_mode_rejects_a_deviating_document(store, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    path = next(shared_data.joinpath(*CISA).glob("2023/icsa-23-026-07.json"))  # a range in product_version (6.1.31)
    strict = svc.ingest_bytes(store, [(str(path), path.read_bytes())], strict=True, principal=local_principal())
    (r,) = strict.results
    assert r.outcome == "rejected" and r.deviations > 0 and "strict mode rejects" in (r.error or "")
    assert "[6.1.31]" in (r.error or "") and "/product_tree/branches/0" in (r.error or "")
    assert _count(store, advisories) == 0
    (r,) = svc.ingest_bytes(store, [(str(path), path.read_bytes())], principal=local_principal()).results
    assert r.outcome == "new" and r.deviations > 0
    (row,) = svc.list_advisories(store)
    assert len(row.deviations) == r.deviations and all(d["test_id"] and "pointer" in d for d in row.deviations)
    # The same bytes in strict mode later: still rejected, nothing changes.
    (r,) = svc.ingest_bytes(store, [(str(path), path.read_bytes())], strict=True, principal=local_principal()).results
    assert r.outcome == "rejected" and "lenient" in (r.error or "")


def test_untrusted_text_is_stored_as_text(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    doc = _doc("zw-example-2026-005.json")
    doc["document"]["title"] = "EXAMPLE <script>alert(1)</script> [red]markup[/red] \x00nul"
    (r,) = svc.ingest_bytes(store, [("hostile.json", _bytes(doc))], principal=local_principal()).results
    assert r.outcome == "new"
    (row,) = [a for a in svc.list_advisories(store) if a.tracking_id == "ZW-EXAMPLE-2026-005"]
    assert "<script>" in row.title and "\x00" not in row.title


# --- triage -----------------------------------------------------------------------------------------


def test_triage_workflow_rules_and_audit(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    _examples(store)
    f = _finding(store, "ZW-EXAMPLE-2026-003", "ops-power-mon")
    assert f.triage_status == "new"
    with pytest.raises(ConflictError, match="new; it can go to under-assessment"):
        svc.decide(store, f.id, "resolved", "patched already, nothing to do", today=TODAY, principal=local_principal())
    with pytest.raises(InputError, match="at least 10"):
        svc.decide(store, f.id, "under-assessment", "hm", today=TODAY, principal=local_principal())
    with pytest.raises(NotFoundError):
        svc.decide(store, 999_999, "under-assessment", "no such finding here", today=TODAY, principal=local_principal())
    svc.decide(store, f.id, "under-assessment", "reading the hotfix notes", principal=local_principal(name="ann"), today=TODAY)
    with pytest.raises(InputError) as exc:
        svc.decide(store, f.id, "risk-accepted", "low criticality server", today=TODAY, principal=local_principal())
    assert "--owner" in str(exc.value) and "--expires" in str(exc.value)
    with pytest.raises(InputError, match="not in the future"):
        svc.decide(store, f.id, "risk-accepted", "low criticality server", owner="p-sozturk",
                   expires=TODAY, today=TODAY, principal=local_principal())
    with pytest.raises(InputError, match="--control"):
        svc.decide(store, f.id, "mitigated", "blocked at the firewall", today=TODAY, principal=local_principal())
    with pytest.raises(InputError, match="unknown compensating control"):
        svc.decide(store, f.id, "mitigated", "blocked at the firewall", controls=["cc-nope"], today=TODAY, principal=local_principal())
    done = svc.decide(store, f.id, "risk-accepted", "low criticality reporting server, hotfix with the 2027 upgrade",
                      owner="p-sozturk", expires=dt.date(2027, 3, 31), principal=local_principal(name="ann"), today=TODAY)
    assert (done.triage_status, done.triage_owner, done.triage_expires) == ("risk-accepted", "p-sozturk", dt.date(2027, 3, 31))
    assert [(d.from_status, d.to_status, d.actor) for d in done.decisions] == [
        ("new", "under-assessment", "ann"), ("under-assessment", "risk-accepted", "ann"),
    ]
    back = svc.decide(store, f.id, "under-assessment", "the hotfix is out after all", principal=local_principal(name="ann"), today=TODAY)
    assert back.triage_owner is None and back.triage_expires is None
    assert _count(store, triage_decisions) == 3  # append-only: nothing rewritten
    with store.read() as conn:
        decided = [e for e in audit.events(conn) if e.action == "finding.decide"]
        assert audit.verify(conn).ok
    assert [e.after["triage"] for e in decided] == ["under-assessment", "risk-accepted", "under-assessment"]
    assert decided[1].reason.startswith("low criticality") and decided[1].object_id == str(f.id)
    assert {f.id for f in svc.list_findings(store, triage="under-assessment", principal=local_principal())} == {f.id}


def test_mitigated_names_existing_compensating_controls(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    _examples(store)
    doc = load_site(PLANT)
    control = doc.compensating_controls[0].id
    f = _finding(store, "ZW-EXAMPLE-2026-006", "pack-ewon")
    svc.decide(store, f.id, "under-assessment", "OEM asked about the tunnel", today=TODAY, principal=local_principal())
    done = svc.decide(store, f.id, "mitigated", "tunnel only opened on request", controls=[control], today=TODAY, principal=local_principal())
    assert done.triage_status == "mitigated" and done.decisions[-1].controls == (control,)


def test_override_recomputes_priority_with_justification(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    _examples(store)
    f = _finding(store, "ZW-EXAMPLE-2026-002", "comp-plc-p1")
    assert f.priority == "scheduled"
    with pytest.raises(InputError, match="not one of"):
        svc.override(store, f.id, {"exposure": "internet"}, "the OEM laptop stays plugged in", principal=local_principal())
    changed = svc.override(store, f.id, {"exposure": "open", "exploitation": "active"},
                           "OEM laptop stays plugged in with a 4G modem", principal=local_principal(name="ann"))
    s = changed.ssvc
    assert s is not None and changed.priority == s["priority"] == "immediate"
    assert s["exposure"]["computed"] == "small" and s["exposure"]["override"]["by"] == "ann"
    assert "4G modem" in s["exposure"]["source"]
    cleared = svc.override(store, f.id, {"exposure": None, "exploitation": None}, "modem removed, CR-2026-051", principal=local_principal())
    assert cleared.priority == "scheduled"
    with pytest.raises(ConflictError, match="only affected and needs-review"):
        svc.override(store, _finding(store, "ZW-EXAMPLE-2026-002", "comp-plc-p2").id, {"exposure": "open"},
                     "not affected findings have no priority", principal=local_principal())


# --- inventory changes -----------------------------------------------------------------------------


def test_findings_follow_a_reimported_inventory(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    _examples(store)
    p2 = _finding(store, "ZW-EXAMPLE-2026-002", "comp-plc-p2")
    svc.decide(store, p2.id, "under-assessment", "confirm the firmware on site", today=TODAY, principal=local_principal())
    svc.decide(store, p2.id, "not-affected", "firmware 34.011 read from the controller", today=TODAY, principal=local_principal())
    doc = load_site(PLANT)
    assets = []
    for a in doc.assets:
        if a.id == "comp-plc-p2":
            a = a.model_copy(update={"version": "32.011"})  # downgraded to an affected firmware
        if a.id == "bms-nae-1":
            continue  # decommissioned
        assets.append(a)
    import_documents(store, [doc.model_copy(update={"assets": tuple(assets)})], reason="inventory update", principal=local_principal(),
                     prune=True)  # an unstamped document removes only when told (issue 12 §7)
    found = {f.asset_id: f for f in svc.list_findings(store, principal=local_principal()) if f.tracking_id in ("ZW-EXAMPLE-2026-002", "ZW-EXAMPLE-2026-005")}
    assert found["comp-plc-p2"].status == "affected"
    # Worse than decided: the not-affected decision is reopened, saying why.
    reopened = svc.get_finding(store, p2.id, principal=local_principal())
    assert reopened.triage_status == "under-assessment" and reopened.decisions[-1].automatic
    assert "inventory changed" in reopened.decisions[-1].why
    assert "bms-nae-1" not in found
    gone = [f for f in svc.list_findings(store, include_inactive=True, principal=local_principal()) if f.asset_id == "bms-nae-1"]
    assert len(gone) == 1 and not gone[0].active
    with store.read() as conn:
        assert any(e.action == "findings.rematch" for e in audit.events(conn))


# --- KEV ------------------------------------------------------------------------------------------------


def test_kev_import_makes_exploitation_active(store, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    # ICSA-23-297-01 (Cisco IOS XE web UI, CVE-2023-20198) covers the Stratix 5800 core switches.
    path = next(shared_data.joinpath(*CISA).glob("2023/icsa-23-297-01.json"))
    svc.ingest_bytes(store, [(str(path), path.read_bytes())], principal=local_principal())
    f = _finding(store, "ICSA-23-297-01", "ops-core-sw-1")
    assert f.status == "affected" and "CVE-2023-20198" in f.cves
    assert f.ssvc is not None and f.ssvc["exploitation"]["source"].startswith("no KEV catalog")
    report = svc.import_kev(store, shared_data / "kev" / "known_exploited_vulnerabilities.json", principal=local_principal(name="ann"))
    assert report.entries == 1404 and report.added == 1404 and f.id in _reprioritised(store)
    after = svc.get_finding(store, f.id, principal=local_principal())
    assert after.ssvc is not None and after.ssvc["exploitation"]["value"] == "active"
    assert "Known Exploited Vulnerabilities" in after.ssvc["exploitation"]["source"]
    assert after.priority in ("out-of-cycle", "immediate") and after.priority != f.priority
    assert svc.kev_count(store) == (1404, "2025.08.25")
    # Again: nothing added, nothing re-prioritised.
    again = svc.import_kev(store, shared_data / "kev" / "known_exploited_vulnerabilities.json", principal=local_principal())
    assert (again.added, again.removed, again.reprioritised) == (0, 0, 0)


def _reprioritised(store) -> set[int]:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        (event,) = [e for e in audit.events(conn) if e.action == "kev.import"]
    return set(event.after["reprioritised"])


def test_bad_kev_file_stores_nothing(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "kev.json"
    bad.write_text('{"catalogVersion": "x", "dateReleased": "2025-01-01T00:00:00Z", "vulnerabilities": [{"cveID": "nope"}]}')
    with pytest.raises(InputError) as exc:
        svc.import_kev(store, bad, principal=local_principal())
    assert "vulnerabilities[0]" in str(exc.value)
    assert svc.kev_count(store) == (0, None)


# --- real CISA advisories against the example plant -----------------------------------------------------

REAL_CASES = [
    # asset, advisory, status, reason: the example plant's firmware against CISA's ranges.
    ("gran-plc-hsg", "ICSA-21-152-01", "affected", None),
    ("sis-plc-fbd", "ICSA-23-348-09", "affected", None),
    ("dmz-sw-1", "ICSA-23-320-08", "affected", None),
    ("sup-sw-1", "ICSA-23-320-08", "not-affected", None),
    ("comp-plc-p1", "ICSA-22-144-01", "affected", None),
    ("comp-plc-p2", "ICSA-22-144-01", "not-affected", None),
    ("pack-ewon", "ICSA-20-098-03", "affected", None),
    ("bms-nae-1", "ICSA-23-341-03", "affected", None),
    ("bms-nae-3", "ICSA-23-341-03", "not-affected", None),
    ("lab-balance-gw-2", "ICSA-17-320-01", "not-affected", None),
    ("pw-plc-loop", "ICSA-23-201-01", "not-affected", None),
    ("gran-hmi-hsg", "ICSA-21-131-12", "needs-review", "product-ambiguous"),
    ("ops-power-mon", "ICSA-23-290-01", "needs-review", "version-not-comparable"),
]


def test_real_cisa_advisories_against_the_example_plant(store, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    base = shared_data.joinpath(*CISA)
    paths = [next(base.glob(f"*/{adv.lower()}.json")) for adv in sorted({c[1] for c in REAL_CASES})]
    report = svc.ingest_bytes(store, svc.read_items(paths), principal=local_principal())
    assert {r.outcome for r in report.results} == {"new"}
    for asset, advisory, status, reason in REAL_CASES:
        f = _finding(store, advisory, asset)
        assert (f.status, f.reason) == (status, reason), (asset, advisory, f.message)
        assert f.matches and all(m["message"] for m in f.matches)


def test_whole_cisa_feed_ingests_and_reingests(store, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    """All of CISA's feed on SQLite (about 30 s here with light load); PostgreSQL, whose
    per-statement round trips make it slower, gets the 380 advisories of 2023."""
    _plant(store)
    if store.dialect == "sqlite":
        files = svc.iter_paths([shared_data.joinpath(*CISA)])
        assert len(files) > 2000
    else:
        files = svc.iter_paths([shared_data.joinpath(*CISA, "2023")])
        assert len(files) > 350
    start = time.perf_counter()
    report = svc.ingest_bytes(store, svc.read_items(files), principal=local_principal())
    first = time.perf_counter() - start
    assert report.count("rejected") == 0, report.rejected[:3]
    assert report.count("new") + report.count("revision") + report.count("older") == len(files)
    current = svc.list_advisories(store)
    assert len(current) == report.count("new")
    # Lenient mode stored CISA's deviating documents with their deviations (2023's are cleaner).
    assert sum(1 for r in report.results if r.deviations) > (100 if store.dialect == "sqlite" else 0)
    counts: dict[str, int] = {}
    for f in svc.list_findings(store, principal=local_principal()):
        counts[f.status] = counts.get(f.status, 0) + 1
    assert counts["affected"] > 20 and counts["needs-review"] > 5 and counts["not-affected"] > 20
    start = time.perf_counter()
    again = svc.ingest_bytes(store, svc.read_items(files), principal=local_principal())
    assert again.count("unchanged") == len(files)
    assert time.perf_counter() - start < first  # re-ingest skips parsing entirely


def test_findings_of_a_deleted_site_become_inactive(store) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services.sites import delete_site

    _plant(store)
    _examples(store)
    site_id = load_site(PLANT).site.id
    delete_site(store, site_id, reason="plant sold", principal=local_principal())
    assert svc.list_findings(store, principal=local_principal()) == []
    kept = svc.list_findings(store, include_inactive=True, principal=local_principal())
    assert len(kept) == 16 and not any(f.active for f in kept)


def test_migration_0002_matches_the_table_definitions(store) -> None:  # type: ignore[no-untyped-def]
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData

    from zonewarden.store.advisory_tables import ADVISORY_TABLES

    mine = MetaData(naming_convention=ADVISORY_TABLES[0].metadata.naming_convention)
    for table in ADVISORY_TABLES:
        table.to_metadata(mine)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), mine)
    names = {t.name for t in ADVISORY_TABLES}

    def table_of(d: Any) -> str | None:
        if isinstance(d, list):  # modify_* entries come as lists of tuples
            return table_of(d[0])
        obj = d[1]
        if hasattr(obj, "table"):  # indexes, constraints
            return str(obj.table.name)
        if hasattr(obj, "name") and d[0].endswith("_table"):
            return str(obj.name)
        return str(d[2]) if len(d) > 2 else None

    # Other features' tables are not in ``mine`` and show up as removals: ignore them.
    assert [d for d in diff if table_of(d) in names] == []
    from sqlalchemy import inspect

    assert names <= set(inspect(store.engine).get_table_names())


def test_findings_are_the_same_when_the_site_comes_after_the_advisories(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Ingest with no site stored skips flattening (issue 17, speed 1): matching a site imported
    afterwards flattens the stored documents and must find exactly what ingest into the site finds."""
    from zonewarden.store.db import open_store

    _examples(store)
    _plant(store)
    later = {(f.tracking_id, f.advisory_title, f.asset_id, f.status, f.cves, f.priority) for f in svc.list_findings(store, principal=local_principal())}
    assert later
    other = open_store(f"sqlite:///{tmp_path / 'site-first.db'}")
    try:
        _plant(other)
        _examples(other)
        first = {(f.tracking_id, f.advisory_title, f.asset_id, f.status, f.cves, f.priority) for f in svc.list_findings(other, principal=local_principal())}
    finally:
        other.close()
    assert later == first
