"""The authorization policy, as data: which role may do which operation on a site.

One table serves the CLI, the API and the web pages, so they cannot disagree; the
authorization-matrix test walks every role x operation of it. Services call :func:`require`
before they read or write, and filter every list by :func:`visible_sites`.

Operations are ``<object>.<verb>`` strings. Site-scoped operations are checked against the roles
the principal holds on that site; global operations (``GLOBAL_OPERATIONS``: accounts, advisory
intake, the KEV catalog) against roles held on every site (``principal.ANY_SITE``).
"""

from __future__ import annotations

from collections.abc import Iterable

from zonewarden.errors import PermissionDenied
from zonewarden.services.principal import Principal

#: Approver roles as a site's governance policy names them (who may sign what is set per site).
APPROVER_ROLES = frozenset({"asset-owner", "quality", "management", "integrator", "supplier"})

#: The supplier's PSIRT (issue 16): cases are not site-scoped, so these roles count when held on
#: every site (``principal.ANY_SITE``). An analyst works cases; a manager also publishes.
PSIRT_ROLES = frozenset({"psirt-analyst", "psirt-manager"})

ROLES = frozenset({"viewer", "auditor", "engineer", "customer", "admin"}) | APPROVER_ROLES | PSIRT_ROLES

_READ = {"site.read", "report.customer"}
_AUDIT = {"audit.read", "report.auditor", "site.export"}
_ENGINEER = {
    "site.import", "site.edit", "requirement.set", "compensation.record", "risk.edit",
    "assessment.record", "waiver.record", "finding.triage", "patch.edit", "patch.defer.record",
    "patch.change.record", "report.issue", "sbom.import",
}
#: Subscribing to alerts about a site: anyone who may read it (a write, so not with a read-only
#: credential); a customer, who may not read the site's internals, gets no alerts.
_SUBSCRIBE = {"alert.subscribe"}
_APPROVE = {
    "compensation.approve", "risk.accept", "waiver.approve", "finding.close",
    "patch.defer.approve", "patch.change.approve", "report.approve", "change.approve", "vex.accept",
}

#: role -> operations it allows on a site. Admin may do everything, including deleting a site.
POLICY: dict[str, frozenset[str]] = {
    "viewer": frozenset(_READ | _SUBSCRIBE),
    "auditor": frozenset(_READ | _AUDIT | _SUBSCRIBE),
    "engineer": frozenset(_READ | _AUDIT | _ENGINEER | _SUBSCRIBE),
    "customer": frozenset({"report.customer"}),
    **{role: frozenset(_READ | _AUDIT | _APPROVE | _SUBSCRIBE) for role in APPROVER_ROLES},
    "psirt-analyst": frozenset({"psirt.read", "psirt.write"}),
    "psirt-manager": frozenset({"psirt.read", "psirt.write", "psirt.publish"}),
}
_PSIRT = {"psirt.read", "psirt.write", "psirt.publish"}
#: ``job.read``: every background job (anyone sees the jobs they queued); ``job.admin``: run the
#: system's jobs by hand and set schedules; ``alert.admin``: see and remove anyone's subscriptions.
GLOBAL_OPERATIONS = frozenset({"user.admin", "advisory.ingest", "kev.import", "site.create",
                               "job.read", "job.admin", "alert.admin", "audit.checkpoint",
                               "vex.import"} | _PSIRT)
SITE_OPERATIONS = frozenset(_READ | _AUDIT | _ENGINEER | _APPROVE | _SUBSCRIBE | {"site.delete"})
OPERATIONS = SITE_OPERATIONS | GLOBAL_OPERATIONS
POLICY["admin"] = OPERATIONS
READ_OPERATIONS = frozenset(_READ | _AUDIT | {"psirt.read"})


def allowed(principal: Principal, operation: str, site_id: str | None = None) -> bool:
    """Whether ``principal`` may do ``operation`` (on ``site_id`` for site-scoped operations)."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    if principal.local:
        return True
    if principal.read_only and operation not in READ_OPERATIONS:
        return False
    roles = principal.roles_on(None if operation in GLOBAL_OPERATIONS else site_id)
    return any(operation in POLICY.get(role, frozenset()) for role in roles)


def roles_allowing(operation: str) -> list[str]:
    """The roles that allow ``operation``, sorted (named in a denial)."""
    return sorted(role for role, ops in POLICY.items() if operation in ops)


def require(principal: Principal, operation: str, site_id: str | None = None) -> None:
    """Raise :class:`PermissionDenied` naming the roles needed unless the operation is allowed.

    (Recording the denial in the audit trail is the caller's service's job: it holds the
    connection.)"""
    if not allowed(principal, operation, site_id):
        where = f" on site {site_id}" if site_id and operation not in GLOBAL_OPERATIONS else ""
        need = ", ".join(roles_allowing(operation))
        if principal.read_only and operation not in READ_OPERATIONS:
            raise PermissionDenied(f"{operation}{where} needs a credential that may write; this one is read-only")
        raise PermissionDenied(f"{operation}{where} needs one of the roles: {need}")


def visible_sites(principal: Principal, site_ids: Iterable[str]) -> list[str]:
    """The sites ``principal`` may see at all (any role on them), in the given order."""
    if principal.local or principal.roles_on(None):
        return list(site_ids)
    return [s for s in site_ids if principal.roles.get(s)]
