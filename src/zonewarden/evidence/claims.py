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


def customer_claims(ctx: BuildContext) -> list[Claim]:
    """Every data-backed statement the customer package makes, in package order."""
    import importlib

    out: list[Claim] = []
    for section, module in (("access-control", "access_control"), ("remote-access", "remote_access"),
                            ("monitoring", "monitoring"), ("incident-response", "incident_response"),
                            ("supply-continuity", "supply_continuity")):
        if section == "incident-response":
            out += incident_claims(ctx)
        ids = importlib.import_module(f"zonewarden.evidence.sections.{module}").REQUIREMENTS
        plan = plan_claim(ctx, section, ids)
        if plan is not None:
            out.append(plan)
    return patching_claims(ctx) + out


__all__ = [
    "IN_PLACE", "NOT_IN_PLACE", "PARTLY", "Claim", "customer_claims", "incident_claims", "patching_claims",
    "plan_claim", "plan_statement",
]
