"""Sections of an evidence package: one module per section, registered in :data:`SECTION_MODULES`.

A section is a small object with a stable ``id`` (also the name of its template,
``evidence/templates/sections/<id>.html.j2``, and its key in the JSON package), a ``title``,
the ``audiences`` it belongs to, and ``build(ctx) -> SectionData`` returning plain data
(dicts, lists, strings, numbers; dates as ISO strings; strings copied from the site wrapped in
:func:`~zonewarden.evidence.text.u`). Sections do no I/O and never see data the audience may
not see: the context's document is already redacted.

A section with ``after_others = True`` (the executive summary) is built after the rest and
reads them from ``ctx.built_sections``; it keeps its place in the order.

To add a section (advisories, patching...): write ``sections/<name>.py`` defining ``SECTION``,
write ``templates/sections/<id>.html.j2``, and add the module name below where the section
should appear. Document its data in docs/evidence-packages.md; the JSON schema keeps
``data`` open per section, so a new section does not change the package format version.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from zonewarden.evidence.redaction import Audience

if TYPE_CHECKING:  # pragma: no cover
    from zonewarden.evidence.context import BuildContext

SECTION_MODULES: list[str] = [
    "document_control",
    "executive_summary",
    "overview",
    # auditor
    "risk_method",
    "sl_scale",
    "architecture",
    "zone_levels",
    "traceability",
    "risk_register",
    "residual_risks",
    "compensations",
    "legacy",
    "calendar",
    "patching",
    "advisories",
    "suppliers",
    "iso27001",
    "segmentation",
    "claims",
    "asset_register",
    # customer
    "customer_architecture",
    "access_control",
    "remote_access",
    "monitoring",
    "incident_response",
    "supply_continuity",
    "target_levels",
]
"""Order of the sections in a package; each name is a module of this package."""


@dataclass(frozen=True)
class SectionData:
    """What a section built: rendered by its template, serialised as-is into the JSON package."""

    id: str
    title: str
    data: dict[str, Any]
    undecided: list[str] = field(default_factory=list)
    """What the section could not decide, and why (engines that refused the input)."""
    files: dict[str, bytes] = field(default_factory=dict)
    """Files the section adds to the package (a large appendix as CSV); listed and hashed in
    the manifest, not part of ``as_json``."""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "data": self.data, "undecided": self.undecided}


class Section(Protocol):
    id: ClassVar[str]
    title: ClassVar[str]
    audiences: ClassVar[frozenset[Audience]]

    def build(self, ctx: BuildContext) -> SectionData: ...


AUDITOR = frozenset({Audience.AUDITOR})
CUSTOMER = frozenset({Audience.CUSTOMER})
BOTH = frozenset(Audience)


def all_sections() -> list[Section]:
    """Every registered section, in package order."""
    out = []
    seen: set[str] = set()
    for name in SECTION_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        section: Section = module.SECTION
        if section.id in seen:
            raise RuntimeError(f"section id {section.id!r} registered twice")
        seen.add(section.id)
        out.append(section)
    return out


def sections_for(audience: Audience) -> list[Section]:
    return [s for s in all_sections() if audience in s.audiences]


__all__ = ["AUDITOR", "BOTH", "CUSTOMER", "SECTION_MODULES", "Section", "SectionData", "all_sections", "sections_for"]
