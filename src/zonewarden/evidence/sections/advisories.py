"""Security advisories: how advisories are taken in, matched and triaged, with the figures.

The findings live in the database, not in the site document, so the builder hands them over
as plain data on the context (``ctx.advisories``, from
:func:`zonewarden.services.advisories.evidence_data`). Without it the section says so rather
than claiming there is nothing to report.

Auditor: the practice, the counts, every active finding with its priority and triage state,
and the triage decisions. Customer: the practice and the counts only; no asset, zone,
advisory-by-asset or decision text (they map the plant's weak spots).
"""

from __future__ import annotations

from typing import Any

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import BOTH, SectionData
from zonewarden.evidence.text import u, us

PRACTICE = [
    "Advisories are read as CSAF 2.0 documents and validated against the CSAF schema and its "
    "mandatory tests; every deviation is recorded with its test and location.",
    "Each advisory revision is kept; a newer revision replaces the older one for matching.",
    "Advisories are matched against the asset inventory by vendor, product, model number and "
    "version; a match the tool cannot decide is marked for review by a person, never dropped.",
    "Affected findings are prioritised with the SSVC deployer decision (exploitation, system "
    "exposure from zones and conduits, automatable, human impact); every input shows its source "
    "and can be overridden with a recorded justification.",
    "Every triage decision is recorded with who, when and why; risk acceptance has an owner and "
    "an expiry date; a revision that changes an asset's product status reopens the decision.",
]


def _decider(decision: dict[str, Any] | None, signature: dict[str, Any] | None) -> str | None:
    """Who decided: the e-signature's full name when the decision was signed, else the account
    (or "automatic" for a decision the matcher made)."""
    if decision is None:
        return None
    if decision["automatic"]:
        return "automatic"
    if signature is not None and signature.get("signer") == decision["actor"] and signature.get("full_name"):
        return u(signature["full_name"])
    return u(decision["actor"])


def _signature(signature: dict[str, Any] | None) -> dict[str, Any] | None:
    if signature is None:
        return None
    return {"signer": u(signature["signer"]), "full_name": u(signature.get("full_name")),
            "meaning": u(signature.get("meaning")), "signed_at": u(signature.get("signed_at")),
            "status": u(signature.get("status"))}


class AdvisoriesSection:
    id = "advisories"
    title = "Security advisories and vulnerability triage"
    audiences = BOTH

    def build(self, ctx: BuildContext) -> SectionData:
        given: dict[str, Any] | None = getattr(ctx, "advisories", None)
        if given is None:
            return SectionData(
                self.id, self.title, {"practice": PRACTICE, "available": False},
                ["advisory findings were not handed to the package builder (build the package from the database)"],
            )
        summary = given["summary"]
        data: dict[str, Any] = {
            "practice": PRACTICE,
            "available": True,
            "counts": {
                "advisories_stored": summary["advisories_stored"],
                "advisories_with_findings": summary["advisories"],
                "findings": summary["findings"],
                "by_status": dict(summary["by_status"]),
                "by_priority": dict(summary["by_priority"]),
                "by_triage": dict(summary["by_triage"]),
            },
            "kev": {"entries": summary["kev_entries"], "version": u(summary["kev_version"])},
            # Inventory gaps (vendor only) as unassessable exposure; absent from older callers' data.
            "unassessable": dict(summary.get("unassessable") or {}),
        }
        if ctx.auditor:
            last: dict[Any, dict[str, Any]] = {}
            for d in given["decisions"]:
                last[d["finding"]] = d  # oldest first: the last one is the decision in force
            signed: dict[str, dict[str, Any]] = given.get("signatures") or {}
            data["findings"] = [
                {
                    "id": f["id"],
                    "advisory": u(f["advisory"]),
                    "advisory_version": u(f["advisory_version"]),
                    "asset": u(f["asset"]),
                    "zone": u(f["zone"]),
                    "status": u(f["status"]),
                    "reason": u(f["reason"]),
                    "priority": u(f["priority"]),
                    "triage": u(f["triage"]),
                    "owner": u(f["triage_owner"]),
                    "expires": u(f["triage_expires"]),
                    "cves": us(f["cves"]),
                    "cvss": [{"cve": u(c["cve"]), "version": u(c["version"]), "base_score": c["base_score"],
                              "vector": u(c.get("vector"))} for c in f.get("cvss") or ()],
                    "decision": u(last[f["id"]]["why"]) if f["id"] in last else None,
                    "decider": _decider(last.get(f["id"]), signed.get(str(f["id"]))),
                    "signature": _signature(signed.get(str(f["id"]))),
                    "why": u(f["message"]),
                }
                for f in given["findings"]
            ]
            data["decisions"] = [
                {
                    "finding": d["finding"],
                    "at": u(d["at"]),
                    "actor": u(d["actor"]),
                    "from": u(d["from"]),
                    "to": u(d["to"]),
                    "why": u(d["why"]),
                    "owner": u(d["owner"]),
                    "expires": u(d["expires"]),
                    "controls": us(d["controls"]),
                    "automatic": d["automatic"],
                }
                for d in given["decisions"]
            ]
        return SectionData(self.id, self.title, data)


SECTION = AdvisoriesSection()
