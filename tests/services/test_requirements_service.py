"""Requirement writes: one transaction, one audit event, nothing written when invalid."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.domain.requirements import CompensatingControl, RequirementStatus, Status
from zonewarden.errors import InputError, NotFoundError, PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, sites
from zonewarden.services.principal import local_principal
from zonewarden.services.requirements import (
    approve_compensating_control,
    record_compensating_control,
    set_requirement_status,
)


@pytest.fixture
def site_id(store, tmp_path: Path, mini_site_text: str) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "site.yaml"
    path.write_text(
        mini_site_text.replace(
            "  - {id: ann, name: Ann Owner, roles: [asset-owner]}\n",
            "  - {id: ann, name: Ann Owner, roles: [asset-owner]}\n  - {id: bob, name: Bob Approver}\n",
        ),
        encoding="utf-8",
    )
    sites.import_documents(store, [load_site(path)], principal=local_principal())
    return "mini"


def events(store):  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return list(audit.events(conn))


CONTROL = CompensatingControl.model_validate(
    {
        "id": "CC-1",
        "title": "Jump host for the cell",
        "description": "Engineering access only through the DMZ jump host with MFA.",
        "covers": ["SR 1.1 RE 1"],
        "zones": ["cell"],
        "rationale": "fixed-vendor-image",
        "owner": "ann",
        "review": "2027-01-01",
        "expires": "2027-06-01",
    }
)


def test_set_status_adds_then_replaces_with_audit(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    st = RequirementStatus(target="cell", requirement="SR 1.1", status=Status.PARTIAL)
    first = set_requirement_status(store, site_id, st, principal=local_principal(name="ann"), reason="assessment")
    assert first.created and first.before is None
    second = set_requirement_status(
        store, site_id, st.model_copy(update={"status": Status.IMPLEMENTED}), principal=local_principal(name="ann"))
    today = dt.datetime.now(dt.UTC).date().isoformat()  # the site has no time zone: UTC
    assert not second.created
    assert second.before == {"target": "cell", "requirement": "SR 1.1", "status": "partial", "assessed": today}
    doc = sites.load_document(store, site_id)
    assert [(r.target, r.requirement, r.status) for r in doc.requirements] == [("cell", "SR 1.1", Status.IMPLEMENTED)]
    last = events(store)[-1]
    assert (last.action, last.object_id, last.actor) == ("requirement.set-status", "cell/SR 1.1", "ann")
    assert last.before["status"] == "partial" and last.after["status"] == "implemented"
    assert audit_ok(store)


def audit_ok(store) -> bool:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return audit.verify(conn).ok


def test_invalid_change_writes_nothing(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    before = events(store)
    bad = RequirementStatus(target="cell", requirement="SR 1.1 RE 1", status=Status.COMPENSATED, compensating_control="CC-X")
    with pytest.raises(InputError) as info:
        set_requirement_status(store, site_id, bad, principal=local_principal())
    assert any(p.path == ("requirements", 0, "compensating_control") for p in info.value.problems)
    with pytest.raises(InputError):
        set_requirement_status(store, site_id, RequirementStatus(target="nowhere", requirement="SR 1.1", status=Status.IMPLEMENTED), principal=local_principal())
    assert events(store) == before
    assert sites.load_document(store, site_id).requirements == ()


def test_control_record_approve_and_use(store, site_id: str) -> None:  # type: ignore[no-untyped-def]
    rec = record_compensating_control(store, site_id, CONTROL, principal=local_principal(name="ann"))
    assert rec.created
    with pytest.raises(PermissionDenied, match="someone else has to approve it"):
        approve_compensating_control(store, site_id, "CC-1", approver="ann", approved=dt.date(2026, 6, 1), principal=local_principal())
    with pytest.raises(NotFoundError, match="controls: CC-1"):
        approve_compensating_control(store, site_id, "CC-9", approver="bob", approved=dt.date(2026, 6, 1), principal=local_principal())
    with pytest.raises(InputError, match="invalid"):
        approve_compensating_control(store, site_id, "CC-1", approver="carol", approved=dt.date(2026, 6, 1), principal=local_principal())
    ok = approve_compensating_control(store, site_id, "CC-1", approver="bob", approved=dt.date(2026, 6, 1), principal=local_principal(name="bob"))
    assert ok.before is not None and "approver" not in ok.before and ok.after["approver"] == "bob"
    set_requirement_status(
        store, site_id,
        RequirementStatus(target="cell", requirement="SR 1.1 RE 1", status=Status.COMPENSATED, compensating_control="CC-1"),
 principal=local_principal(),
    )
    doc = sites.load_document(store, site_id)
    assert doc.compensating_controls[0].approved == dt.date(2026, 6, 1)
    assert [e.action for e in events(store)][-3:] == [
        "compensating-control.record",
        "compensating-control.approve",
        "requirement.set-status",
    ]
    assert audit_ok(store)
