"""Document control (both audiences, first): id, version, status, author/reviewer/approver with
signatures, distribution, classification and revision history
(:mod:`zonewarden.evidence.document_control`)."""

from __future__ import annotations

from zonewarden.evidence.context import BuildContext
from zonewarden.evidence.document_control import build_document_control
from zonewarden.evidence.sections import BOTH, SectionData


class DocumentControlSection:
    id = "document-control"
    title = "Document control"
    audiences = BOTH

    def build(self, ctx: BuildContext) -> SectionData:
        data = build_document_control(ctx)
        undecided = [d["missing"] for d in data["duties"] if d["missing"]]
        if data["uncontrolled"]:
            undecided.append("the package is not issued: it has no version and is an uncontrolled draft "
                             "(issue it with `zonewarden report --issue` from the database)")
        return SectionData(self.id, self.title, data, undecided)


SECTION = DocumentControlSection()
