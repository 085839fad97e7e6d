"""Signed risk acceptances and change-record approvals: signed by the signer's linked person and
bound to the record; an edit shows the signature broken; a wrong password, the owner, a viewer
and a past expiry are refused with nothing written; single-user mode still works."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from zonewarden.errors import AuthenticationError, ConflictError, InputError, PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import identity, site_edits, sites
from zonewarden.services.approvals_more import accept_risk, approve_change
from zonewarden.services.principal import local_principal
from zonewarden.services.signatures import Signing, list_signatures
from zonewarden.store.tables import audit_events

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
SITE = "rheinfeld-os"
PW = {"ada": "administrator pass", "quinn": "quality signs here", "otto": "owner of the risk", "vic": "viewer only please"}
RATIONALE = "The compensating firewall rules keep the residual risk within the plant's appetite."
CHANGE = {"id": "CR-TEST-1", "type": "new-integration", "title": "Historian link to the MES",
          "zones": ["qc-lab"], "status": "proposed", "raised": "2026-11-01", "owner": "p-mbrandt"}


@pytest.fixture()
def team(store):  # type: ignore[no-untyped-def]
    local = local_principal(name="setup")
    sites.import_documents(store, [load_site(EXAMPLE)], principal=local)
    site_edits.add_record(store, SITE, "changes", CHANGE, principal=local)
    identity.add_user(store, local, "ada", "Ada Admin", PW["ada"])
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    for name, role in (("quinn", "quality"), ("otto", "asset-owner"), ("vic", "viewer")):
        identity.add_user(store, admin, name, name.title(), PW[name])
        identity.grant_role(store, admin, name, role, SITE)
    identity.link_person(store, admin, SITE, "p-hkessler", "quinn")
    identity.link_person(store, admin, SITE, "p-mbrandt", "otto")  # owns R-01 and CR-TEST-1
    return {n: identity.authenticate_password(store, n, PW[n]) for n in PW}


def _later() -> dt.date:
    return dt.date.today() + dt.timedelta(days=365)


def _risk(store, ident: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    with store.read() as conn:
        data = sites._stored_data(conn, SITE) or {}
    return next(r for r in data["risks"] if r["id"] == ident)


def test_risk_acceptance_is_signed_and_an_edit_breaks_it(store, team) -> None:  # type: ignore[no-untyped-def]
    out = accept_risk(store, SITE, "R-01", rationale=RATIONALE, expires=_later(), principal=team["quinn"],
                      signing=Signing(PW["quinn"], meaning="accepted as quality"))
    assert out.after["treatment"] == "accept"
    assert out.after["acceptance"]["by"] == "p-hkessler" and out.after["acceptance"]["expires"] == _later().isoformat()
    sigs = list_signatures(store, team["vic"], SITE, object_id="R-01")
    assert [(s.signer, s.meaning, s.status) for s in sigs] == [("quinn", "accepted as quality", "valid")]

    local = local_principal(name="setup")
    site_edits.edit_record(store, SITE, "risks", "R-01", {"title": "Ransomware via the OEM jump host (edited)"},
                           principal=local)
    assert [s.status for s in list_signatures(store, team["vic"], SITE, object_id="R-01")] == ["no longer matches"]


def test_change_approval_is_signed_and_an_edit_breaks_it(store, team) -> None:  # type: ignore[no-untyped-def]
    out = approve_change(store, SITE, "CR-TEST-1", role="management", principal=team["quinn"],
                         signing=Signing(PW["quinn"]))
    assert out.after["approvals"] == [{"by": "p-hkessler", "on": out.after["approvals"][0]["on"], "role": "management"}]
    sigs = list_signatures(store, team["vic"], SITE, object_id="CR-TEST-1")
    assert [(s.signer, s.object_type, s.status) for s in sigs] == [("quinn", "change", "valid")]
    with pytest.raises(ConflictError, match="already"):
        approve_change(store, SITE, "CR-TEST-1", principal=team["quinn"], signing=Signing(PW["quinn"]))

    site_edits.edit_record(store, SITE, "changes", "CR-TEST-1", {"title": "Historian link to the MES, v2"},
                           principal=local_principal(name="setup"))
    assert [s.status for s in list_signatures(store, team["vic"], SITE, object_id="CR-TEST-1")] == ["no longer matches"]


def test_wrong_password_is_refused_audited_and_writes_nothing(store, team) -> None:  # type: ignore[no-untyped-def]
    before = _risk(store, "R-01")
    with pytest.raises(AuthenticationError):
        accept_risk(store, SITE, "R-01", rationale=RATIONALE, expires=_later(), principal=team["quinn"],
                    signing=Signing("not my password"))
    with pytest.raises(AuthenticationError):
        approve_change(store, SITE, "CR-TEST-1", principal=team["quinn"], signing=Signing("not my password"))
    assert _risk(store, "R-01") == before
    with store.read() as conn:
        failed = conn.execute(select(audit_events.c.action).where(audit_events.c.actor == "quinn",
                                                                  audit_events.c.action == "auth.login-failed")).all()
    assert len(failed) == 2
    with pytest.raises(PermissionDenied, match="re-enter your password"):
        accept_risk(store, SITE, "R-01", rationale=RATIONALE, expires=_later(), principal=team["quinn"], signing=None)


def test_owner_may_not_accept_or_approve_and_viewer_is_denied(store, team) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied, match="owns risk R-01"):
        accept_risk(store, SITE, "R-01", rationale=RATIONALE, expires=_later(), principal=team["otto"],
                    signing=Signing(PW["otto"]))
    with pytest.raises(PermissionDenied, match="owns change CR-TEST-1"):
        approve_change(store, SITE, "CR-TEST-1", principal=team["otto"], signing=Signing(PW["otto"]))
    with pytest.raises(PermissionDenied, match="risk.accept"):
        accept_risk(store, SITE, "R-01", rationale=RATIONALE, expires=_later(), principal=team["vic"],
                    signing=Signing(PW["vic"]))
    with pytest.raises(PermissionDenied, match="change.approve"):
        approve_change(store, SITE, "CR-TEST-1", principal=team["vic"], signing=Signing(PW["vic"]))
    with pytest.raises(PermissionDenied, match="does not hold the role 'quality'"):
        approve_change(store, SITE, "CR-TEST-1", role="quality", principal=team["quinn"], signing=Signing(PW["quinn"]))
    assert list_signatures(store, team["vic"], SITE, object_id="CR-TEST-1") == []


def test_expiry_must_be_after_today(store, team) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="not after today"):
        accept_risk(store, SITE, "R-01", rationale=RATIONALE, expires=dt.date(2020, 1, 1), principal=team["quinn"],
                    signing=Signing(PW["quinn"]))
    assert "acceptance" not in _risk(store, "R-01")


def test_single_user_mode_names_the_person_and_is_unsigned(store) -> None:  # type: ignore[no-untyped-def]
    local = local_principal(name="setup")
    sites.import_documents(store, [load_site(EXAMPLE)], principal=local)
    out = accept_risk(store, SITE, "R-01", rationale=RATIONALE, expires=_later(), principal=local, by="p-hkessler")
    assert out.after["acceptance"]["by"] == "p-hkessler"
    with pytest.raises(InputError, match="name the approving person"):
        approve_change(store, SITE, "CR-2025-07", principal=local)
    ch = approve_change(store, SITE, "CR-2025-07", principal=local, by="p-hkessler")
    assert ch.after["approvals"][-1]["by"] == "p-hkessler"
    assert list_signatures(store, local, SITE) == [] or all(
        s.object_id not in ("R-01", "CR-2025-07") for s in list_signatures(store, local, SITE))
