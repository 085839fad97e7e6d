"""The PSIRT case service: intake with bad input, the life cycle, embargo visibility, audit."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest

from zonewarden.domain import psirt as d
from zonewarden.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from zonewarden.services import audit, psirt
from zonewarden.services.principal import ANY_SITE, Principal, local_principal

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
ANA = Principal(user_id="ana", method="token", roles={ANY_SITE: frozenset({"psirt-analyst"})})
BOB = Principal(user_id="bob", method="token", roles={ANY_SITE: frozenset({"psirt-analyst"})})
VIEWER = Principal(user_id="vic", method="token", roles={"s1": frozenset({"viewer"})})

REPORT = {
    "reporter": {"name": "Rita Reporter", "contact": "rita@example.org", "credit": True},
    "product": "FlowCtl PLC",
    "version": "2.0",
    "title": "Unauthenticated write to the config endpoint",
    "description": "POST /cfg accepts writes without a session. <script>alert(1)</script>",
    "attachments": [{"name": "poc.txt", "content": "curl -X POST http://plc/cfg"}],
}


def _report(**changes) -> bytes:  # type: ignore[no-untyped-def]
    return json.dumps({**REPORT, **changes}).encode()


def test_intake_keeps_script_payloads_inert_and_names_bad_fields_by_pointer(store) -> None:  # type: ignore[no-untyped-def]
    rep = psirt.parse_report(_report(), source="r.json")
    got = psirt.intake(store, rep, principal=ANA, now=T0)
    assert got.reference == "PSIRT-2026-0001"
    assert got.acknowledge_by == T0 + dt.timedelta(days=2)
    shown = psirt.show_case(store, got.reference, principal=ANA, now=T0)
    assert shown["report"]["description"].endswith("<script>alert(1)</script>")  # text, as sent
    assert "curl" not in json.dumps(shown)  # attachment contents are not echoed
    with pytest.raises(InputError) as err:
        psirt.parse_report(_report(reporter={"contact": "not an address"}, title=""), source="r.json")
    text = str(err.value)
    assert "/reporter/contact" in text and "/title" in text
    with pytest.raises(InputError, match="not valid JSON"):
        psirt.parse_report(b'{"reporter": ', source="r.json")
    big = base64.b64encode(b"x" * (d.MAX_ATTACHMENT_BYTES + 1)).decode()
    with pytest.raises(InputError, match="/attachments/0/content"):
        psirt.parse_report(_report(attachments=[{"name": "a.bin", "media_type": "application/octet-stream",
                                                  "content": big}]), source="r.json")
    with pytest.raises(InputError, match="at most"):
        psirt.parse_report(b" " * (d.MAX_REPORT_BYTES + 1), source="r.json")


def test_life_cycle_moves_only_along_legal_transitions_and_audits_each_step(store) -> None:  # type: ignore[no-untyped-def]
    ref = psirt.intake(store, psirt.parse_report(_report(), source="r"), principal=ANA, now=T0).reference
    with pytest.raises(ConflictError, match="cannot move to validated"):
        psirt.transition(store, ref, d.CaseState.VALIDATED, principal=ANA, now=T0)
    case = psirt.acknowledge(store, ref, principal=ANA, now=T0 + dt.timedelta(hours=3))
    assert case.state is d.CaseState.TRIAGE and case.owners == ("ana",)
    with pytest.raises(InputError, match="needs a reason"):
        psirt.transition(store, ref, d.CaseState.REJECTED, principal=ANA)
    rejected = psirt.transition(store, ref, d.CaseState.REJECTED, principal=ANA, reason="not reproducible")
    assert rejected.rejection_reason == "not reproducible"
    psirt.transition(store, ref, d.CaseState.TRIAGE, principal=ANA)  # reopened
    psirt.transition(store, ref, d.CaseState.VALIDATED, principal=ANA)
    with pytest.raises(ConflictError, match="affected versions"):
        psirt.transition(store, ref, d.CaseState.COORDINATED_RELEASE, principal=ANA)
    psirt.record_cve(store, ref, "CVE-2026-12345", d.CveState.REQUESTED, principal=ANA)
    case = psirt.record_cve(store, ref, "CVE-2026-12345", d.CveState.RESERVED, principal=ANA)
    assert [(c.cve, c.state) for c in case.cves] == [("CVE-2026-12345", d.CveState.RESERVED)]
    with pytest.raises(InputError, match="not a CVE id"):
        psirt.record_cve(store, ref, "CVE-26-1", d.CveState.REQUESTED, principal=ANA)
    psirt.coordinate(store, ref, principal=ANA, party="CERT@VDE", kind="cert", told="report and PoC")
    with store.read() as conn:
        actions = [e.action for e in audit.events(conn) if e.object_id == ref]
        assert audit.verify(conn).ok
    assert actions == ["psirt.intake", "psirt.acknowledge", "psirt.rejected", "psirt.triage", "psirt.validated",
                       "psirt.cve", "psirt.cve", "psirt.coordinate"]
    with store.read() as conn:
        dumped = json.dumps([e.after for e in audit.events(conn)])
    assert "rita@example.org" not in dumped and "Rita" not in dumped  # reporter stays out of the log
    assert "FlowCtl" not in dumped and "config endpoint" not in dumped  # and so do the case's details
    with store.read() as conn:
        last = [e for e in audit.events(conn) if e.object_id == ref][-1]
    current = psirt.load_case(store, ref, principal=ANA)
    assert last.after["case_digest"] == psirt.case_digest(current)  # the trail proves the stored state


def test_permissions_and_due_dates(store) -> None:  # type: ignore[no-untyped-def]
    rep = psirt.parse_report(_report(), source="r")
    with pytest.raises(PermissionDenied, match="psirt.write needs one of the roles"):
        psirt.intake(store, rep, principal=VIEWER)
    ref = psirt.intake(store, rep, principal=ANA, now=T0).reference
    with pytest.raises(PermissionDenied):
        psirt.list_cases(store, principal=VIEWER)
    late = T0 + dt.timedelta(days=11)
    [row] = psirt.list_cases(store, principal=ANA, now=late)
    assert row["overdue"] == ["acknowledge", "decide"]
    with pytest.raises(NotFoundError):
        psirt.show_case(store, "PSIRT-2026-9999", principal=ANA)
    assert ref


def test_embargoed_details_stay_inside_the_embargo(store) -> None:  # type: ignore[no-untyped-def]
    ref = psirt.intake(store, psirt.parse_report(_report(), source="r"), principal=ANA, now=T0).reference
    psirt.acknowledge(store, ref, principal=ANA, now=T0)
    until = T0 + dt.timedelta(days=60)
    psirt.set_embargo(store, ref, until, principal=ANA, members=["carl"], parties=["CERT@VDE"], now=T0)
    outsider = psirt.show_case(store, ref, principal=BOB, now=T0)
    assert set(outsider) == {"reference", "state", "received_at", "embargoed", "embargo_until"}
    assert "FlowCtl" not in json.dumps(psirt.list_cases(store, principal=BOB, now=T0))
    with pytest.raises(PermissionDenied, match="under embargo"):
        psirt.load_case(store, ref, principal=BOB, now=T0)
    with pytest.raises(PermissionDenied, match="under embargo"):
        psirt.coordinate(store, ref, principal=BOB, party="x", kind="cert", told="y", now=T0)
    carl = Principal(user_id="carl", method="token", roles={ANY_SITE: frozenset({"psirt-analyst"})})
    assert psirt.show_case(store, ref, principal=carl, now=T0)["report"]["reporter"]["contact"] == "rita@example.org"
    assert psirt.export_cases(store, principal=ANA, now=T0) == []
    # After the embargo date the details are no longer secret to PSIRT members.
    assert "report" in psirt.show_case(store, ref, principal=BOB, now=until + dt.timedelta(seconds=1))


def test_unauthenticated_intake_is_rate_limited_and_the_secret_reads_one_status(store) -> None:  # type: ignore[no-untyped-def]
    first = psirt.submit_report(store, _report(), client="203.0.113.7", now=T0)
    status = psirt.report_status(store, first.secret)
    assert status == {"reference": first.reference, "state": "received", "received_at": T0.isoformat(),
                      "acknowledged_at": None, "rejection_reason": None}
    for _ in range(psirt.RATE_LIMIT - 1):
        psirt.submit_report(store, _report(), client="203.0.113.7", now=T0)
    with pytest.raises(ConflictError, match="too many reports"):
        psirt.submit_report(store, _report(), client="203.0.113.7", now=T0)
    psirt.submit_report(store, _report(), client="198.51.100.1", now=T0)  # another client is not limited
    with pytest.raises(NotFoundError):
        psirt.report_status(store, "guess")
    with pytest.raises(InputError):
        psirt.submit_report(store, b"<html>", client="x", now=T0)


def test_local_user_and_ssvc_coordinator_decision(store, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    me = local_principal(name="me")
    ref = psirt.intake(store, psirt.parse_report(_report(), source="r"), principal=me).reference
    table = json.loads((shared_data / "ssvc/decision_tables/ssvc/coordinator_triage_1_0_0.json").read_text())
    inputs = {"RP": "N", "SCON": "Y", "RC": "C", "SC": "O", "SE": "A", "U": "L", "PSI": "M"}
    row = next(r for r in table["mapping"] if all(r[f"ssvc:{k}:" + pid.split(":")[2]] == v
                                                      for k, v in inputs.items()
                                                      for pid in table["decision_points"] if pid.split(":")[1] == k))
    case = psirt.record_coordinator_decision(store, ref, table, inputs, principal=me)
    assert case.coordinator is not None and case.coordinator.outcome == row[table["outcome"]]
    with pytest.raises(InputError, match="RC=maybe: not a value"):
        psirt.record_coordinator_decision(store, ref, table, {**inputs, "RC": "maybe"}, principal=me)
    with pytest.raises(InputError, match="PSI .* is missing"):
        psirt.record_coordinator_decision(store, ref, table, {k: v for k, v in inputs.items() if k != "PSI"}, principal=me)


def test_concurrent_intakes_get_distinct_references(store) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    rep = psirt.parse_report(_report(), source="r")
    with ThreadPoolExecutor(4) as pool:
        refs = list(pool.map(lambda _: psirt.intake(store, rep, principal=ANA, now=T0).reference, range(8)))
    assert sorted(refs) == [f"PSIRT-2026-{n:04d}" for n in range(1, 9)]
