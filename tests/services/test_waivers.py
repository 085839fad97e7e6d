"""Waivers through the service layer: a pending waiver waives nothing, approving it (single-user
mode: the person named) makes it waive; the owner-less waiver is approved once; legacy typed
waivers still waive and read as not signed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.domain.site import Waiver
from zonewarden.errors import ConflictError, InputError, PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import sites, waivers
from zonewarden.services.principal import Principal, local_principal
from zonewarden.services.queries.architecture import check

ROOT = Path(__file__).resolve().parents[2]


def _waived(store, site_id: str) -> list[str | None]:  # type: ignore[no-untyped-def]
    result = check(store, principal=local_principal(), site_id=site_id, as_of="2026-12-01")
    return [w.waiver.id for w in result.report.waived]


def test_pending_waiver_waives_nothing_until_approved(store) -> None:  # type: ignore[no-untyped-def]
    me = local_principal(name="lead")
    doc = load_site(ROOT / "examples" / "pharma-plant")
    sites.import_documents(store, [doc], principal=me)
    site = doc.site.id
    legacy = waivers.list_waivers(store, site, principal=me)
    assert legacy and all(r["approval"]["status"] == "not signed" for r in legacy)

    # The example's in-force waiver, re-recorded under an id without its approval: pending.
    base = next(w for w in doc.checks.waivers if w.expires >= dt.date(2026, 12, 1))
    data = base.model_dump(mode="json", exclude={"approved_by", "approved", "id"})
    waivers.record_waiver(store, site, Waiver.model_validate({**data, "id": "W-1", "objects": list(base.objects)}),
                          principal=me)
    result = check(store, principal=me, site_id=site, as_of="2026-12-01")
    assert [w.id for w in result.report.pending_waivers] == ["W-1"]
    assert "W-1" not in _waived(store, site)
    assert result.as_dict()["pending_waivers"][0]["approval"]["status"] == "pending"

    with pytest.raises(InputError, match="name the approving person"):
        waivers.approve_waiver(store, site, "W-1", approver=None, approved=dt.date(2026, 12, 1), principal=me)
    out = waivers.approve_waiver(store, site, "W-1", approver=base.approved_by, approved=dt.date(2026, 12, 1),
                                 principal=me)
    assert out.after["approved_by"] == base.approved_by and out.after["approved"] == "2026-12-01"
    with pytest.raises(ConflictError, match="approved already"):
        waivers.approve_waiver(store, site, "W-1", approver=base.approved_by, approved=dt.date(2026, 12, 1),
                               principal=me)
    with pytest.raises(Exception, match=r"no waiver .W-9. in site .* \(waivers: W-1\)"):
        waivers.approve_waiver(store, site, "W-9", approver=base.approved_by, approved=dt.date(2026, 12, 1),
                               principal=me)
    # Single-user approvals are not signed: shown as such.
    assert {r["approval"]["status"] for r in waivers.list_waivers(store, site, principal=me)} == {"not signed"}

    viewer = Principal(user_id="vic", method="token", roles={site: frozenset({"viewer"})})
    with pytest.raises(PermissionDenied, match="waiver.approve"):
        waivers.approve_waiver(store, site, "W-1", approver=None, approved=dt.date(2026, 12, 1), principal=viewer)


def test_waiver_ids_are_unique_and_a_recorded_waiver_needs_one(store) -> None:  # type: ignore[no-untyped-def]
    row = {"rule": "ZW007", "justification": "long enough text", "expires": "2027-01-01"}
    with pytest.raises(ValueError, match="two waivers have the id 'W-1'"):
        from zonewarden.domain.site import CheckSettings

        CheckSettings.model_validate({"waivers": [{**row, "id": "W-1"}, {**row, "id": "W-1"}]})
    with pytest.raises(InputError, match="needs an id"):
        waivers.record_waiver(store, "x", Waiver.model_validate(row), principal=local_principal())
