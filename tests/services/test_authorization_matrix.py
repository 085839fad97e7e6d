"""Every role x every operation, against an expectation written out here (not derived from the
policy table, so a careless edit of the policy fails this test), and the services enforcing it
for the CLI and the API alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from zonewarden.domain.requirements import RequirementStatus, Status
from zonewarden.errors import PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import access, audit, requirements, sites
from zonewarden.services.principal import ANY_SITE, Principal, local_principal

READ = {"site.read", "report.customer"}
AUDIT = READ | {"audit.read", "report.auditor", "site.export"}
ENGINEER = AUDIT | {
    "site.import", "site.edit", "requirement.set", "compensation.record", "risk.edit", "assessment.record",
    "waiver.record", "finding.triage", "patch.edit", "patch.defer.record", "patch.change.record", "report.issue",
    "sbom.import",  # an asset's SBOM is inventory: whoever imports the site
}
APPROVER = AUDIT | {
    "compensation.approve", "risk.accept", "waiver.approve", "finding.close", "patch.defer.approve",
    "patch.change.approve", "report.approve", "change.approve",
    "vex.accept",  # a VEX statement from a non-supplier closes findings only once an approver accepts it
}
SUBSCRIBE = {"alert.subscribe"}  # alerts about a site: its readers, not customers, not read-only
EXPECTED = {
    "viewer": READ | SUBSCRIBE,
    "auditor": AUDIT | SUBSCRIBE,
    "engineer": ENGINEER | SUBSCRIBE,
    "customer": {"report.customer"},
    "asset-owner": APPROVER | SUBSCRIBE,
    "quality": APPROVER | SUBSCRIBE,
    "management": APPROVER | SUBSCRIBE,
    "integrator": APPROVER | SUBSCRIBE,
    "supplier": APPROVER | SUBSCRIBE,
    "psirt-analyst": set(),
    "psirt-manager": set(),
}
PSIRT = {"psirt.read", "psirt.write", "psirt.publish"}
GLOBAL = {"user.admin", "advisory.ingest", "kev.import", "site.create", "job.read", "job.admin", "alert.admin",
          "audit.checkpoint", "vex.import"} | PSIRT
#: Global operations a role other than admin allows when held on every site.
GLOBAL_EXPECTED = {"psirt-analyst": {"psirt.read", "psirt.write"}, "psirt-manager": PSIRT}


def test_the_roles_are_the_ones_the_issue_names() -> None:
    assert access.ROLES == set(EXPECTED) | {"admin"}
    assert access.OPERATIONS == ENGINEER | APPROVER | SUBSCRIBE | GLOBAL | {"site.delete"}


@pytest.mark.parametrize("role", sorted(access.ROLES))
@pytest.mark.parametrize("operation", sorted(access.OPERATIONS))
def test_every_role_and_operation(role: str, operation: str) -> None:
    on_site = Principal(user_id="u", method="token", roles={"s1": frozenset({role})})
    everywhere = Principal(user_id="u", method="token", roles={ANY_SITE: frozenset({role})})
    if operation in GLOBAL:
        # A global operation needs the role on every site; one site's role is not enough.
        assert access.allowed(on_site, operation, "s1") is False
        want_global = role == "admin" or operation in GLOBAL_EXPECTED.get(role, set())
        assert access.allowed(everywhere, operation) is want_global
        read_only = Principal(user_id="u", method="token", roles={ANY_SITE: frozenset({role})}, read_only=True)
        assert access.allowed(read_only, operation) is (want_global and operation == "psirt.read")
        return
    want = role == "admin" or operation in EXPECTED.get(role, set())
    assert access.allowed(on_site, operation, "s1") is want
    assert access.allowed(on_site, operation, "s2") is False  # a role on one site gives nothing on another
    read_only = Principal(user_id="u", method="token", roles={"s1": frozenset({role})}, read_only=True)
    assert access.allowed(read_only, operation, "s1") is (want and operation in AUDIT)


def test_single_user_mode_allows_everything() -> None:
    assert all(access.allowed(local_principal(), op, "s1") for op in access.OPERATIONS)


def test_services_enforce_the_policy_and_record_the_denial(store, mini_site_file: Path) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(mini_site_file)
    sites.import_documents(store, [doc], principal=local_principal(name="setup"))
    site_id = doc.site.id
    target = doc.zones[0].id
    status = RequirementStatus(target=target, requirement="SR 1.1", status=Status.PLANNED,
                               target_date=dt.date(2027, 1, 31), assessed=dt.date(2026, 12, 1))
    viewer = Principal(user_id="vic", method="token", client="api", roles={site_id: frozenset({"viewer"})})
    engineer = Principal(user_id="eve", method="token", client="api", roles={site_id: frozenset({"engineer"})})
    before = sites.load_document(store, site_id)
    with pytest.raises(PermissionDenied, match="requirement.set on site .* needs one of the roles: admin, engineer"):
        requirements.set_requirement_status(store, site_id, status, principal=viewer)
    assert sites.load_document(store, site_id) == before  # nothing written
    with pytest.raises(PermissionDenied):
        sites.import_documents(store, [doc], principal=viewer)
    with pytest.raises(PermissionDenied):
        sites.delete_site(store, site_id, principal=engineer)
    requirements.set_requirement_status(store, site_id, status, principal=engineer)
    with store.read() as conn:
        events = list(audit.events(conn, site_id=site_id))
    denials = [e for e in events if e.action == "access.denied"]
    assert [(e.actor, e.object_id) for e in denials] == [
        ("vic", "requirement.set"), ("vic", "site.import"), ("eve", "site.delete")]
    assert denials[0].context == {"method": "token", "client": "api"}
    (done,) = [e for e in events if e.action == "requirement.set-status"]
    assert done.actor == "eve" and {k: done.context[k] for k in ("method", "client")} == {"method": "token", "client": "api"}
    # A site the caller holds no role on is not listed, and reads as unknown.
    stranger = Principal(user_id="sam", method="token", roles={"elsewhere": frozenset({"admin"})})
    assert sites.list_sites(store, stranger) == []
    with pytest.raises(Exception, match="no site"):
        sites.resolve_site_id(store, site_id, stranger)
