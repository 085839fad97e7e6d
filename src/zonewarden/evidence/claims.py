"""Statements of practice made to customers, each produced from recorded facts.

A customer package must not state a practice the plant's own data contradicts ("a patch goes
to pilot systems first" when no pilot system is recorded). Every such sentence is a
:class:`Claim` built here from the (redacted) site document and the engine results: its
wording follows what the data supports, ``state`` says whether the practice is in place,
partly in place or not in place, and ``evidence`` names the records it rests on. Customer
sections render ``statement``; the auditor package lists every claim with its evidence
("claims and their evidence"), so a reviewer can check each sentence against the records.

Pure: no I/O; counts and ids only (no names), so a claim is safe for either audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zonewarden.evidence.sections._common import requirement_summary
from zonewarden.wording import count

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.evidence.context import BuildContext

IN_PLACE = "in place"
PARTLY = "partly in place"
NOT_IN_PLACE = "not in place"


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    """Id of the customer section that makes the statement."""
    statement: str
    state: str
    evidence: tuple[str, ...]
    """The records behind the statement, as short references (record kinds, ids and counts)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "statement": self.statement,
            "state": self.state,
            "evidence": list(self.evidence),
        }


def _ids(items: Any, limit: int = 8) -> str:
    ids = sorted(str(i) for i in items)
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# --- patching ------------------------------------------------------------------------------


def patching_claims(ctx: BuildContext) -> list[Claim]:
    from zonewarden.domain.governance import ChangeStatus
    from zonewarden.domain.patching import Wave

    doc = ctx.doc
    policy = doc.patch_policy
    out: list[Claim] = []
    custom = sorted(t.tier for t in policy.tiers)
    out.append(Claim(
        "patch-tiers", "patching",
        "Patches are handled per patch tier (exposed security infrastructure, OT servers, line-level "
        "devices, legacy or vendor-locked systems), each tier with its own target time per SSVC priority.",
        IN_PLACE,
        (f"patch policy: tiers 1-4 ({'customised: ' + ', '.join(map(str, custom)) if custom else 'defaults'})",
         f"{count(len(doc.patches), 'vendor patch record')}"),
    ))
    qualified = [t for t in (1, 2, 3, 4) if policy.tier(t).vendor_qualification]
    windows, blackouts = len(doc.maintenance_windows), len(doc.blackouts)
    parts = []
    if qualified:
        parts.append(f"Patches for tier {', '.join(map(str, qualified))} systems are installed only once the "
                     "system vendor has qualified them")
    if windows:
        where = f"inside {count(windows, 'agreed maintenance window')}"
        parts.append(where if parts else f"Patches are installed {where}")
    if blackouts:
        parts.append(f"never during the {count(blackouts, 'recorded blackout period')} such as qualification runs")
    if parts:
        state = IN_PLACE if qualified and windows else PARTLY
        statement = ", ".join(parts) + "."
    else:
        state = NOT_IN_PLACE
        statement = "No vendor qualification rule and no maintenance window are recorded for installing patches."
    out.append(Claim(
        "patch-windows", "patching", statement, state,
        (f"patch policy: vendor qualification on tier(s) {', '.join(map(str, qualified)) or 'none'}",
         f"maintenance windows: {_ids(w.id for w in doc.maintenance_windows) or 'none'}",
         f"blackout periods: {_ids(b.id for b in doc.blackouts) or 'none'}"),
    ))
    pilots = policy.waves.pilot_assets
    pilot_changes = [c.id for c in doc.patch_changes if c.wave is Wave.PILOT]
    if pilots:
        statement = (f"A patch goes first to the {count(len(pilots), 'recorded pilot or test system')}; "
                     f"production follows after a soak of {count(policy.waves.soak_days, 'day')}, and only "
                     "when the pilot went well.")
        state = IN_PLACE if pilot_changes or not doc.patch_changes else PARTLY
        if state == PARTLY:
            statement += " No pilot installation is on record yet."
    else:
        statement = ("No pilot or test systems are recorded for patching: patches go to production systems "
                     "without a recorded pilot stage.")
        state = NOT_IN_PLACE
    out.append(Claim(
        "patch-pilot", "patching", statement, state,
        (f"patch policy waves: {count(len(pilots), 'pilot asset')}, soak {policy.waves.soak_days} days",
         f"pilot-wave patch change records: {_ids(pilot_changes) or 'none'}"),
    ))
    deferrals = doc.deferrals
    approved = [d for d in deferrals if d.approver is not None]
    statement = ("A patch that cannot be installed in time is deferred explicitly: with a reason, the compensating "
                 "controls that cover the exposure, an expiry within the policy's longest deferral, and an "
                 "approver other than the requester.")
    if deferrals:
        statement += f" {count(len(deferrals), 'deferral')} on record, {len(approved)} approved."
    else:
        statement += " No deferral is on record."
    out.append(Claim(
        "patch-deferral", "patching", statement, IN_PLACE if len(approved) == len(deferrals) else PARTLY,
        (f"deferrals: {_ids(d.id for d in deferrals) or 'none'}",
         f"approved deferrals: {len(approved)} of {len(deferrals)}"),
    ))
    installed = [c for c in doc.patch_changes if c.status in (ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED)]
    closed = [c for c in installed if c.status is ChangeStatus.CLOSED]
    if installed:
        one = len(installed) == 1
        statement = (f"{count(len(installed), 'patch installation')} {'is' if one else 'are'} "
                     f"on record as {'a change record' if one else 'change records'}, each with impact assessment, approval, backup and tested "
                     "restore, rollback criteria and who decides a rollback, and revalidation or a documented "
                     f"no-impact determination; {len(closed)} of them closed after a post-implementation review.")
        state = IN_PLACE
    else:
        statement = "No patch installation is on record as a change record."
        state = NOT_IN_PLACE
    out.append(Claim(
        "patch-change-records", "patching", statement, state,
        (f"implemented or closed patch change records: {_ids(c.id for c in installed) or 'none'}",
         f"closed after review: {len(closed)}"),
    ))
    return out


# --- incident response ---------------------------------------------------------------------

BACKUP_REQUIREMENTS = ("SR 7.3", "SR 7.4")


def incident_claims(ctx: BuildContext) -> list[Claim]:
    from zonewarden.domain.governance import ChangeType

    doc = ctx.doc
    incidents = [c.id for c in doc.changes if c.type is ChangeType.SECURITY_INCIDENT]
    statement = ("A security incident is recorded as a change record and triggers a scoped reassessment of "
                 "the zones it touched, within a reaction time set by each zone's criticality class.")
    statement += (f" {count(len(incidents), 'incident record')} on record." if incidents
                  else " No security incident is on record.")
    out = [Claim(
        "incident-reassessment", "incident-response", statement, IN_PLACE,
        (f"criticality classes in use: {_ids({z.criticality.value for z in doc.zones}) or 'none'}",
         f"security-incident change records: {_ids(incidents) or 'none'}"),
    )]
    summary = requirement_summary(ctx, BACKUP_REQUIREMENTS)
    requiring = sum(r["zones_requiring"] for r in summary)
    met = sum(r["zones_met"] for r in summary)
    evidence = tuple(
        f"{r['requirement']}: in place in {r['zones_met']} of {count(r['zones_requiring'], 'zone')} whose target asks for it"
        for r in summary
    ) or ("gap analysis not available",)
    if not summary or requiring == 0:
        statement = "No zone's target level asks for backup and recovery requirements (SR 7.3, SR 7.4)."
        state = NOT_IN_PLACE if not summary else IN_PLACE
    elif met == requiring:
        statement = ("Backups and documented recovery (SR 7.3, SR 7.4) are in place in every zone whose target "
                     "level asks for them.")
        state = IN_PLACE
    elif met == 0:
        statement = ("Backup and recovery requirements (SR 7.3, SR 7.4) are not yet in place in any zone whose "
                     "target level asks for them.")
        state = NOT_IN_PLACE
    else:
        statement = (f"Backup and recovery requirements (SR 7.3, SR 7.4) are in place in {met} of {requiring} "
                     "zone–requirement pairs the target levels ask for; the rest are not yet in place.")
        state = PARTLY
    out.append(Claim("incident-backup", "incident-response", statement, state, evidence))
    return out


# --- plans for requirements not yet in place -----------------------------------------------


def plan_claim(ctx: BuildContext, section: str, ids: tuple[str, ...]) -> Claim | None:
    """What the data says about the requirements of ``section``'s table that are not yet in
    place where a zone's target asks for them: how many carry a recorded plan (status 'planned'
    with a date). ``None`` when nothing is missing or the gap analysis is not available."""
    gap, catalog = ctx.gap, ctx.catalog
    if gap is None or catalog is None:
        return None
    wanted = {}
    for rid in ids:
        try:
            req = catalog.get(rid)
        except (KeyError, LookupError, ValueError):
            continue
        wanted[req.id] = req
    missing: list[tuple[str, str]] = []
    planned: list[Any] = []
    for target in gap.targets:
        if target.kind != "zone" or target.sl_target is None:
            continue
        for state in target.states:
            req = wanted.get(state.requirement)
            if req is None or state.met or target.sl_target[req.fr] < req.min_sl:
                continue
            missing.append((target.target, state.requirement))
            if state.target_date is not None:
                planned.append(state.target_date)
    if not missing:
        return None
    n = len(missing)
    pairs = "zone–requirement pair" + ("" if n == 1 else "s")
    if planned:
        statement = (f"Of the {n} {pairs} not yet in place, {len(planned)} "
                     f"{'has' if len(planned) == 1 else 'have'} a planned completion date "
                     f"(the latest {max(planned).isoformat()}).")
        state = IN_PLACE if len(planned) == n else PARTLY
    else:
        statement = f"No completion date is recorded for the {n} {pairs} not yet in place."
        state = NOT_IN_PLACE
    return Claim(
        f"{section}-plan", section, statement, state,
        (f"requirements: {', '.join(sorted(wanted))}",
         f"not in place: {_ids(f'{z}/{r}' for z, r in missing)}",
         f"with a planned date: {len(planned)} of {n}"),
    )


def plan_statement(ctx: BuildContext, section: str, ids: tuple[str, ...]) -> str | None:
    claim = plan_claim(ctx, section, ids)
    return None if claim is None else claim.statement


# --- governance: roles, departures, change approval (access control) -----------------------


def governance_claims(ctx: BuildContext) -> list[Claim]:
    """Who is responsible, how departures are recorded, whether changes are approved."""
    from collections import Counter

    doc = ctx.doc
    roles = Counter(r.value for p in doc.people for r in p.roles)
    if roles:
        statement = ("Security responsibilities are assigned to named roles ("
                     + ", ".join(f"{k}: {v}" for k, v in sorted(roles.items())) + ").")
        state = IN_PLACE
    else:
        statement = "No security role is recorded for any named person."
        state = NOT_IN_PLACE
    out = [Claim("access-roles", "access-control", statement, state,
                 (f"people with a role: {sum(1 for p in doc.people if p.roles)} of {len(doc.people)}",))]

    controls, exceptions = doc.compensating_controls, doc.exceptions
    pending = [c.id for c in controls if c.approver is None]
    n = len(controls) + len(exceptions)
    if n == 0:
        statement = "No departure from a requirement is on record as a compensating control or exception."
        state = NOT_IN_PLACE
    else:
        statement = (f"Departures from requirements are recorded as compensating controls or exceptions "
                     f"({count(len(controls), 'control')}, {count(len(exceptions), 'exception')}), each with an "
                     "owner, a review date or expiry")
        if pending:
            statement += f"; {len(pending)} of the controls {'is' if len(pending) == 1 else 'are'} still awaiting approval."
            state = PARTLY
        else:
            statement += ", and an approver."
            state = IN_PLACE
    out.append(Claim("access-departures", "access-control", statement, state,
                     (f"compensating controls: {_ids(c.id for c in controls) or 'none'}",
                      f"exceptions: {_ids(e.id for e in exceptions) or 'none'}",
                      f"controls awaiting approval: {_ids(pending) or 'none'}")))

    from zonewarden.domain.governance import ChangeStatus, ChangeType

    # Changes that went ahead (approved, implemented, closed) need an approval; incident records
    # and changes still proposed, rejected or cancelled do not.
    went_ahead = (ChangeStatus.APPROVED, ChangeStatus.IMPLEMENTED, ChangeStatus.CLOSED)
    changes = [c for c in doc.changes if c.type is not ChangeType.SECURITY_INCIDENT and c.status in went_ahead]
    approved = [c.id for c in changes if any(a.decision.value == "approved" for a in c.approvals)]
    unapproved = [c.id for c in changes if c.id not in approved]
    if not changes:
        statement = "No change to the control system is on record as carried out, so change approval cannot be shown."
        state = NOT_IN_PLACE
    elif not unapproved:
        statement = (f"Changes to the control system are approved under change control: each of the "
                     f"{count(len(changes), 'change')} carried out has an approval on record.")
        state = IN_PLACE
    else:
        statement = (f"Of the {count(len(changes), 'change')} to the control system carried out, {len(approved)} "
                     f"{'has' if len(approved) == 1 else 'have'} an approval on record and {len(unapproved)} "
                     f"{'has' if len(unapproved) == 1 else 'have'} none.")
        state = PARTLY if approved else NOT_IN_PLACE
    out.append(Claim("access-change-approval", "access-control", statement, state,
                     (f"changes carried out with an approval: {_ids(approved) or 'none'}",
                      f"changes carried out without one: {_ids(unapproved) or 'none'}",
                      f"approvals on record: {sum(len(c.approvals) for c in changes)}")))
    return out


# --- supply continuity: legacy components ---------------------------------------------------


def legacy_claim(ctx: BuildContext) -> Claim:
    """Ageing or vendor-locked components and the compensating controls that address them."""
    doc = ctx.doc
    legacy = [a.id for a in doc.assets if a.legacy_constraints]
    covered: set[str] = set()
    controls = []
    for c in doc.compensating_controls:
        hit = [a for a in legacy if a in c.assets] or (
            [] if c.assets else [a.id for a in doc.assets if a.id in legacy and a.zone in c.zones])
        if hit:
            covered.update(hit)
            controls.append(c.id)
    if not legacy:
        statement = "No ageing or vendor-locked component with recorded constraints is on record."
        state = IN_PLACE
    elif not controls:
        statement = (f"{count(len(legacy), 'component')} carry recorded legacy constraints; no compensating control "
                     "is recorded for them.")
        state = NOT_IN_PLACE
    else:
        statement = (f"Ageing and vendor-locked components are known: {count(len(legacy), 'component')} carry "
                     f"recorded constraints, {len(covered)} of them addressed by "
                     f"{count(len(controls), 'compensating control')} with owners and expiry dates.")
        state = IN_PLACE if len(covered) == len(legacy) else PARTLY
    return Claim("supply-legacy", "supply-continuity", statement, state,
                 (f"assets with legacy constraints: {_ids(legacy) or 'none'}",
                  f"compensating controls covering them: {_ids(controls) or 'none'}"))


# --- target levels: departures from the risk-based proposal ---------------------------------


def target_claim(ctx: BuildContext) -> Claim | None:
    """Whether every zone whose SL-T differs from the risk-based proposal records a reason."""
    if ctx.proposals is None:
        return None
    differ = [p for p in ctx.proposals if str(p.status).startswith("differs")]
    unjustified = [p for p in differ if p.status == "differs-unjustified"]
    if not differ:
        statement = "Every zone's target level follows the risk-based proposal."
        state = IN_PLACE
    elif not unjustified:
        statement = (f"Where the plant chose a different level than the proposal "
                     f"({count(len(differ), 'zone')}), the reason is recorded.")
        state = IN_PLACE
    else:
        statement = (f"{count(len(differ), 'zone')} differ from the risk-based proposal; "
                     f"{len(unjustified)} of them without a recorded reason.")
        state = PARTLY if len(unjustified) < len(differ) else NOT_IN_PLACE
    return Claim("target-differences", "target-levels", statement, state,
                 (f"zones differing with a reason: {_ids(p.zone for p in differ if p not in unjustified) or 'none'}",
                  f"zones differing without a reason: {_ids(p.zone for p in unjustified) or 'none'}"))


def claim_by_id(ctx: BuildContext, ident: str) -> Claim | None:
    """One claim of :func:`customer_claims` (sections render it where they make the statement)."""
    return next((c for c in customer_claims(ctx) if c.id == ident), None)


def customer_claims(ctx: BuildContext) -> list[Claim]:
    """Every data-backed statement the customer package makes, in package order."""
    import importlib

    out: list[Claim] = []
    for section, module in (("access-control", "access_control"), ("remote-access", "remote_access"),
                            ("monitoring", "monitoring"), ("incident-response", "incident_response"),
                            ("supply-continuity", "supply_continuity")):
        if section == "access-control":
            out += governance_claims(ctx)
        if section == "incident-response":
            out += incident_claims(ctx)
        if section == "supply-continuity":
            out.append(legacy_claim(ctx))
        ids = importlib.import_module(f"zonewarden.evidence.sections.{module}").REQUIREMENTS
        plan = plan_claim(ctx, section, ids)
        if plan is not None:
            out.append(plan)
    target = target_claim(ctx)
    return patching_claims(ctx) + out + ([target] if target is not None else [])


__all__ = [
    "IN_PLACE", "NOT_IN_PLACE", "PARTLY", "Claim", "claim_by_id", "customer_claims", "governance_claims",
    "incident_claims", "legacy_claim", "patching_claims", "plan_claim", "plan_statement", "target_claim",
]
