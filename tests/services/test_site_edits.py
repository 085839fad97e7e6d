"""Site edits through the one write path: add / replace / edit / remove a record of every section
by id, moving an asset, references refused with what to do, a stale revision refused, the audit
event with before/after, and a viewer denied (the denial audited)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zonewarden.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
    StaleRevisionError,
)
from zonewarden.io.sitefile import load_site
from zonewarden.services import audit, site_edits, site_views, sites
from zonewarden.services.principal import Principal, local_principal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
SITE = "rheinfeld-os"
LOCAL = local_principal(name="eng")
TEXT_FIELD = ("title", "name", "scope")
# A copy of a maintenance window overlapping the original for the same assets is refused (rightly).
OVERRIDES: dict[str, dict[str, Any]] = {
    "maintenance-windows": {"rule": "every Sunday 02:00-03:00", "scope": {"zones": ["ext"]}},
}


@pytest.fixture()
def example(store):  # type: ignore[no-untyped-def]
    sites.import_documents(store, [load_site(EXAMPLE)], principal=local_principal(name="setup"))
    return store


def _rows(store: Any, field: str) -> list[dict[str, Any]]:
    doc = sites.load_document(store, SITE)
    return [r.model_dump(mode="json", exclude_defaults=True) for r in getattr(doc, field)]


def _last_event(store: Any) -> Any:
    with store.read() as conn:
        return list(audit.events(conn))[-1]


@pytest.mark.parametrize("name", sorted(site_edits.SECTIONS))
def test_every_section_adds_replaces_edits_and_removes_a_record(example: Any, name: str) -> None:
    sec = site_edits.SECTIONS[name]
    template = _rows(example, sec.field)[0]
    new = {**template, "id": "zz-new-1", **OVERRIDES.get(name, {})}
    text = next(f for f in TEXT_FIELD if f in sec.model.model_fields)

    added = site_edits.add_record(example, SITE, name, new, principal=LOCAL, reason="test add")
    assert added.created and added.before is None and added.after["id"] == "zz-new-1"
    assert [r for r in _rows(example, sec.field) if r["id"] == "zz-new-1"] == [added.after]
    event = _last_event(example)
    assert (event.action, event.object_type, event.object_id) == (f"{sec.object_type}.add", sec.object_type, "zz-new-1")
    assert event.before is None and event.after == added.after and event.reason == "test add"
    with pytest.raises(ConflictError, match="exists already"):
        site_edits.add_record(example, SITE, name, new, principal=LOCAL)

    replaced = site_edits.replace_record(example, SITE, name, "zz-new-1", {**new, text: "Replaced text"},
                                         principal=LOCAL)
    assert not replaced.created and replaced.before == added.after and replaced.after[text] == "Replaced text"
    assert _last_event(example).before == added.after

    edited = site_edits.edit_record(example, SITE, name, "zz-new-1", {text: "Edited text"}, principal=LOCAL)
    assert edited.after == {**replaced.after, text: "Edited text"}
    assert _last_event(example).action == f"{sec.object_type}.edit"

    removed = site_edits.remove_record(example, SITE, name, "zz-new-1", principal=LOCAL)
    assert removed.before == edited.after and removed.after == {}
    assert "zz-new-1" not in {r["id"] for r in _rows(example, sec.field)}
    event = _last_event(example)
    assert event.action == f"{sec.object_type}.remove" and event.after is None and event.before == edited.after
    with pytest.raises(NotFoundError, match="no .* 'zz-new-1'"):
        site_edits.remove_record(example, SITE, name, "zz-new-1", principal=LOCAL)


def test_an_invalid_record_is_refused_with_field_paths_and_nothing_written(example: Any) -> None:
    before = site_views.revision(example, LOCAL, SITE)
    zone = {"id": "zz-zone", "name": "New zone", "kind": "control", "purdue_level": 9, "sl_targt": 2}
    with pytest.raises(InputError) as caught:
        site_edits.add_record(example, SITE, "zones", zone, principal=LOCAL)
    pointers = {p.pointer: p.message for p in caught.value.problems}
    assert "purdue_level" in pointers and "sl_targt" in pointers
    assert "did you mean `sl_target`" in pointers["sl_targt"]
    with pytest.raises(InputError) as caught:
        site_edits.edit_record(example, SITE, "assets", _rows(example, "assets")[0]["id"],
                               {"criticality": "extreme"}, principal=LOCAL)
    assert [p.pointer for p in caught.value.problems] == ["criticality"]
    assert site_views.revision(example, LOCAL, SITE) == before


def test_a_record_that_breaks_a_reference_is_refused(example: Any) -> None:
    asset = {**_rows(example, "assets")[0], "id": "zz-asset", "zone": "nowhere"}
    with pytest.raises(InputError) as caught:
        site_edits.add_record(example, SITE, "assets", asset, principal=LOCAL)
    assert any("unknown zone 'nowhere'" in p.message for p in caught.value.problems)


def test_removing_a_zone_with_assets_names_the_referrers_and_what_to_do(example: Any) -> None:
    with pytest.raises(InputError) as caught:
        site_edits.remove_record(example, SITE, "zones", "elec", principal=LOCAL)
    message = str(caught.value)
    elec_assets = [a["id"] for a in _rows(example, "assets") if a.get("zone") == "elec"]
    assert all(f"assets {a}" in message for a in elec_assets)
    assert "zonewarden asset move" in message and "nothing was removed" in message
    assert "elec" in {z["id"] for z in _rows(example, "zones")}


def test_removing_a_conduit_named_by_a_status_is_refused(example: Any) -> None:
    status = next(r for r in _rows(example, "requirements")
                  if r["target"] in {c["id"] for c in _rows(example, "conduits")})
    with pytest.raises(InputError, match=f"requirements {status['target']}/"):
        site_edits.remove_record(example, SITE, "conduits", status["target"], principal=LOCAL)


def test_move_asset_is_its_own_audited_operation(example: Any) -> None:
    asset = next(a for a in _rows(example, "assets") if a.get("zone") == "qc-lab")
    try:
        moved = site_edits.move_asset(example, SITE, asset["id"], "ops", principal=LOCAL, reason="relocated")
    except InputError as exc:  # the example may name the asset in a record of its zone
        assert "breaks" in str(exc) and "nothing was moved" in str(exc)
        return
    assert moved.before == asset and moved.after == {**asset, "zone": "ops"}
    event = _last_event(example)
    assert (event.action, event.object_id, event.reason) == ("asset.move", asset["id"], "relocated")
    with pytest.raises(ConflictError, match="already"):
        site_edits.move_asset(example, SITE, asset["id"], "ops", principal=LOCAL)
    with pytest.raises(InputError) as caught:
        site_edits.move_asset(example, SITE, asset["id"], "mars", principal=LOCAL)
    assert [p.pointer for p in caught.value.problems] == ["zone"] and "unknown zone 'mars'" in str(caught.value.problems[0])


def test_a_free_asset_moves(example: Any) -> None:
    asset = {**_rows(example, "assets")[0], "id": "zz-free", "zone": "qc-lab"}
    asset.pop("owner", None)
    site_edits.add_record(example, SITE, "assets", asset, principal=LOCAL)
    moved = site_edits.move_asset(example, SITE, "zz-free", "ops", principal=LOCAL)
    assert moved.after["zone"] == "ops" and moved.before is not None and moved.before["zone"] == "qc-lab"
    assert next(a for a in _rows(example, "assets") if a["id"] == "zz-free")["zone"] == "ops"


def test_a_stale_revision_is_refused(example: Any) -> None:
    old = site_views.revision(example, LOCAL, SITE)
    zone = {"id": "zz-zone", "name": "New zone", "kind": "control", "purdue_level": 1}
    site_edits.add_record(example, SITE, "zones", zone, principal=LOCAL, expected_revision=old)
    with pytest.raises(StaleRevisionError):
        site_edits.edit_record(example, SITE, "zones", "zz-zone", {"name": "Other"}, principal=LOCAL,
                               expected_revision=old)
    assert next(z for z in _rows(example, "zones") if z["id"] == "zz-zone")["name"] == "New zone"


def test_a_viewer_is_denied_and_the_denial_audited(example: Any) -> None:
    viewer = Principal(user_id="vic", method="token", client="api", roles={SITE: frozenset({"viewer"})})
    before = site_views.revision(example, LOCAL, SITE)
    with pytest.raises(PermissionDenied, match="site.edit on site rheinfeld-os needs one of the roles: admin, engineer"):
        site_edits.add_record(example, SITE, "zones", {"id": "zz", "bogus": 1}, principal=viewer)
    event = _last_event(example)
    assert (event.action, event.actor, event.object_id) == ("access.denied", "vic", "site.edit")
    with pytest.raises(PermissionDenied, match="risk.edit"):
        site_edits.remove_record(example, SITE, "risks", _rows(example, "risks")[0]["id"], principal=viewer)
    with pytest.raises(PermissionDenied):
        site_edits.move_asset(example, SITE, _rows(example, "assets")[0]["id"], "ops", principal=viewer)
    assert site_views.revision(example, LOCAL, SITE) == before


def test_an_engineer_cannot_type_a_risk_acceptance(example: Any) -> None:
    engineer = Principal(user_id="eve", method="token", client="api", roles={SITE: frozenset({"engineer"})})
    risk = next(r for r in _rows(example, "risks") if "acceptance" not in r)
    accepted = {**risk, "acceptance": {"by": "p-hkessler", "on": "2026-11-01", "expires": "2027-11-01",
                                       "rationale": "Residual risk is tolerable for one year."}}
    with pytest.raises(PermissionDenied, match="electronic signature"):
        site_edits.replace_record(example, SITE, "risks", risk["id"], accepted, principal=engineer)
    edited = site_edits.edit_record(example, SITE, "risks", risk["id"], {"title": "Renamed"}, principal=engineer)
    assert edited.after["title"] == "Renamed"


def test_the_id_in_the_record_must_match(example: Any) -> None:
    zone = _rows(example, "zones")[0]
    with pytest.raises(InputError) as caught:
        site_edits.replace_record(example, SITE, "zones", zone["id"], {**zone, "id": "other"}, principal=LOCAL)
    assert [p.pointer for p in caught.value.problems] == ["id"]
    with pytest.raises(NotFoundError, match="no editable section 'people'"):
        site_edits.section("people")


def test_an_edit_does_not_move_an_asset(example: Any) -> None:
    asset = _rows(example, "assets")[0]
    with pytest.raises(InputError, match="zonewarden asset move") as caught:
        site_edits.edit_record(example, SITE, "assets", asset["id"], {"zone": "ops"}, principal=LOCAL)
    assert [p.pointer for p in caught.value.problems] == ["zone"]
    with pytest.raises(InputError, match="its own operation"):
        site_edits.replace_record(example, SITE, "assets", asset["id"], {**asset, "zone": "ops"}, principal=LOCAL)
