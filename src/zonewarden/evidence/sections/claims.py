"""Claims and their evidence (auditor): every statement of practice the customer package makes,
with whether the data shows it in place and the records it rests on
(:mod:`zonewarden.evidence.claims`), so a reviewer can check each customer sentence."""

from __future__ import annotations

from zonewarden.evidence.claims import customer_claims
from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.sections import AUDITOR, SectionData


class ClaimsSection:
    id = "claims"
    title = "Customer statements and their evidence"
    audiences = AUDITOR

    def build(self, ctx: BuildContext) -> SectionData:
        claims = [c.as_json() for c in customer_claims(ctx)]
        counts: dict[str, int] = {}
        for c in claims:
            counts[c["state"]] = counts.get(c["state"], 0) + 1
        return SectionData(self.id, self.title, {"claims": claims, "by_state": dict(sorted(counts.items()))})


SECTION = ClaimsSection()
