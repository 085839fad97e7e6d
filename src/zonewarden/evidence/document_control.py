"""Document control of a package: id, version, status, the people who author, review and approve
it, distribution, classification marking and the revision history since the previous issue.

Pure: the issue facts come in through the build context (``ctx.document_control``, put there by
``services.queries.report`` from ``services.package_issues``); without them (a package built from
a file, or not issued) the package says it is an uncontrolled draft, never a made-up version.

Customer packages never name people (a person's name is internal unless the person lists
``name`` as shareable): they give the role and organisation instead.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from zonewarden.domain.site import Person, Role, SiteDocument
from zonewarden.evidence.redaction import Audience
from zonewarden.evidence.text import u

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.evidence.context import BuildContext

NOT_ISSUED = "not issued"

# Who signs what, by site role, first match wins (the site's governance people).
DUTIES: tuple[tuple[str, tuple[Role, ...]], ...] = (
    ("Author", (Role.OT_ENGINEERING, Role.IT_SECURITY, Role.INTEGRATOR)),
    ("Reviewer", (Role.QUALITY, Role.IT_SECURITY, Role.AUDITOR)),
    ("Approver", (Role.MANAGEMENT, Role.ASSET_OWNER, Role.QUALITY)),
)
DISTRIBUTION_ROLES = (Role.ASSET_OWNER, Role.MANAGEMENT, Role.QUALITY, Role.IT_SECURITY, Role.AUDITOR)


def classification(audience: Audience, recipient: str | None, agreement: str | None) -> Any:
    if audience is Audience.AUDITOR:
        return "Confidential"
    if recipient and agreement:
        return u(f"Shared with {recipient} under {agreement}")
    # Not issued: no recipient or agreement yet. Say so in a short marking that still reads as
    # a restriction (it is on every page), not as a sentence about the issue process.
    return "Not issued \u2014 share only with the customer and under the agreement named when issued"


def _shows_name(person: Person, audience: Audience) -> bool:
    return audience is Audience.AUDITOR or "name" in (getattr(person, "shareable", ()) or ())


def _who(person: Person, role: Role | None, audience: Audience) -> Any:
    label = role.value if role else "person"
    org = f", {person.organisation}" if person.organisation else ""
    if _shows_name(person, audience):
        return u(f"{person.name} ({label}{org})")
    return u(f"{label}{org}")


def _duties(doc: SiteDocument, audience: Audience, signatures: list[str]) -> list[dict[str, Any]]:
    out = []
    used: set[str] = set()
    for duty, roles in DUTIES:
        person, role = None, None
        for r in roles:
            person = next((p for p in doc.people if r in p.roles and p.id not in used), None)
            if person is not None:
                role = r
                break
        if person is not None:
            used.add(person.id)
        out.append({
            "duty": duty,
            "who": _who(person, role, audience) if person else None,
            "missing": None if person else f"no person with role {' / '.join(r.value for r in roles)} is recorded",
            "signature": None,
        })
    if signatures:
        out[-1]["signature"] = [u(s) if audience is Audience.AUDITOR else "electronically signed" for s in signatures]
    return out


def _changes(previous: dict[str, Any] | None, ctx: BuildContext) -> list[str]:
    """What changed in the site since the previous issue (the site diff), in short lines."""
    if previous is None:
        return []
    from zonewarden.engines.sitediff import diff_sites
    from zonewarden.evidence.redaction import redact_document

    try:
        from zonewarden.services.sites import TRUSTED

        old = redact_document(SiteDocument.model_validate(previous, context=TRUSTED), ctx.audience)
    except ValueError as exc:  # the stored data no longer reads as a site (model changed)
        return [f"the previous issue's data could not be compared: {str(exc).splitlines()[0]}"]
    diff = diff_sites(old, ctx.doc, as_of=ctx.as_of)
    if diff.empty:
        return ["no change to the site data"]
    counts: Counter[tuple[str, str]] = Counter((c.section, c.kind.value) for c in diff.changes)
    ids: dict[tuple[str, str], list[str]] = {}
    for c in diff.changes:
        ids.setdefault((c.section, c.kind.value), []).append(c.id)
    lines = []
    for (section, kind), n in sorted(counts.items()):
        line = f"{section.replace('_', ' ')}: {n} {kind}"
        if ctx.audience is Audience.AUDITOR and section in ("zones", "conduits", "assets"):
            shown = sorted(ids[(section, kind)])
            line += " (" + ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "") + ")"
        lines.append(line)
    return lines


def build_document_control(ctx: BuildContext) -> dict[str, Any]:
    facts: dict[str, Any] = dict(getattr(ctx, "document_control", None) or {})
    doc, audience = ctx.doc, ctx.audience
    site = doc.site.id
    issued = facts.get("version") is not None
    doc_id = facts.get("document_id") or f"ZW-{site}-{'AUD' if audience is Audience.AUDITOR else 'CUS'}"
    recipient, agreement = facts.get("recipient"), facts.get("agreement")
    history = [
        {"version": h["version"], "date": h["issued_on"], "status": h["status"], "as_of": h["as_of"],
         "changes": []}
        for h in facts.get("history", [])
    ]
    if issued:
        changes = _changes(facts.get("previous_data"), ctx)
        history.append({"version": facts["version"], "date": facts["issued_on"], "status": facts["status"],
                        "as_of": ctx.as_of.isoformat(),
                        "changes": changes or ["first issue"]})
    distribution = [
        _who(p, next(r for r in DISTRIBUTION_ROLES if r in p.roles), audience)
        for p in doc.people if any(r in p.roles for r in DISTRIBUTION_ROLES)
    ] if audience is Audience.AUDITOR else []
    if recipient:
        distribution.append(u(f"{recipient} (recipient)"))
    return {
        "document_id": doc_id,
        "version": facts["version"] if issued else NOT_ISSUED,
        "status": facts.get("status", "draft") if issued else "draft",
        "uncontrolled": not issued,
        "classification": classification(audience, recipient, agreement),
        "issued_by": (u(facts["issued_by"]) if audience is Audience.AUDITOR else None) if issued else None,
        "issued_on": facts.get("issued_on"),
        "approved_on": facts.get("approved_on"),
        "duties": _duties(doc, audience, list(facts.get("signatures", []))),
        "distribution": distribution,
        "history": history,
    }


__all__ = ["DUTIES", "NOT_ISSUED", "build_document_control", "classification"]
