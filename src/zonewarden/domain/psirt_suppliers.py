"""The asset owner's view of its suppliers' disclosure processes (issue 16, part 7).

A site file's ``suppliers:`` section records, per vendor of the inventory, how that vendor
discloses vulnerabilities. :func:`assess` (pure; ``today`` is passed in) says how well the plant
will be informed and why; :func:`register` lists every vendor of the inventory with the share of
the plant's assets it covers, including vendors nobody recorded (no process known).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from zonewarden.domain.common import ID_PATTERN, Model, ShortText, Text

Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]


class Informed(StrEnum):
    """How well the plant will learn of the supplier's vulnerabilities."""

    WELL = "well"
    """Machine-readable (CSAF) and signed advisories, a PSIRT contact, a review in date."""
    PARTLY = "partly"
    """A disclosure process exists but something is missing (no CSAF, no signature, review due)."""
    POORLY = "poorly"
    """No usable disclosure process: no contact, no policy, no advisories."""


class Certification(Model):
    """IEC 62443-4-1 (secure development life cycle) certification of the supplier."""

    certified: bool
    scope: ShortText | None = Field(default=None, description="Which products or sites the certificate covers.")
    certificate: ShortText | None = None
    valid_until: dt.date | None = None


class SupportEnd(Model):
    product: ShortText
    ends: dt.date


class Supplier(Model):
    id: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    vendor: ShortText = Field(description="The vendor name as the inventory writes it (assets' vendor:).")
    aliases: tuple[ShortText, ...] = Field(default=(), description="Other spellings of the vendor in the inventory.")
    policy_url: Url | None = None
    security_txt: Url | None = None
    psirt_contact: ShortText | None = None
    csaf_provider: Url | None = Field(default=None, description="provider-metadata.json or a CSAF feed URL.")
    signs_advisories: bool | None = None
    iec_62443_4_1: Certification | None = None
    support_ends: tuple[SupportEnd, ...] = ()
    review_date: dt.date | None = Field(default=None, description="When this record is next to be reviewed.")
    notes: Text | None = None

    def names(self) -> frozenset[str]:
        return frozenset(n.casefold() for n in (self.vendor, *self.aliases))


@dataclass(frozen=True, slots=True)
class Assessment:
    informed: Informed
    reasons: tuple[str, ...]


def assess(supplier: Supplier | None, today: dt.date) -> Assessment:
    """How well the plant will be informed by ``supplier`` (``None``: not recorded)."""
    if supplier is None:
        return Assessment(Informed.POORLY, ("no disclosure process recorded for this vendor",))
    gaps: list[str] = []
    usable = bool(supplier.psirt_contact or supplier.security_txt or supplier.policy_url or supplier.csaf_provider)
    if not usable:
        return Assessment(Informed.POORLY, ("no PSIRT contact, security.txt, policy or advisory feed",))
    if not supplier.csaf_provider:
        gaps.append("no machine-readable (CSAF) advisories")
    if supplier.signs_advisories is not True:
        gaps.append("advisories not signed" if supplier.signs_advisories is False else "not known whether advisories are signed")
    if not supplier.psirt_contact and not supplier.security_txt:
        gaps.append("no PSIRT contact")
    cert = supplier.iec_62443_4_1
    if cert is not None and cert.certified and cert.valid_until is not None and cert.valid_until < today:
        gaps.append(f"IEC 62443-4-1 certificate expired {cert.valid_until.isoformat()}")
    if supplier.review_date is None:
        gaps.append("no review date")
    elif supplier.review_date < today:
        gaps.append(f"review overdue since {supplier.review_date.isoformat()}")
    for end in supplier.support_ends:
        if end.ends < today:
            gaps.append(f"support for {end.product} ended {end.ends.isoformat()}")
    return Assessment(Informed.PARTLY if gaps else Informed.WELL, tuple(gaps))


@dataclass(frozen=True, slots=True)
class SupplierRow:
    vendor: str
    supplier_id: str | None
    assets: int
    share: float
    """Share of the site's assets with this vendor (0..1)."""
    informed: Informed
    reasons: tuple[str, ...]
    csaf_provider: str | None
    certified_62443_4_1: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "supplier": self.supplier_id, "assets": self.assets,
                "share": round(self.share, 4), "informed": str(self.informed), "reasons": list(self.reasons),
                "csaf_provider": self.csaf_provider, "certified_62443_4_1": self.certified_62443_4_1}


def register(vendors: Sequence[str | None], suppliers: Sequence[Supplier], today: dt.date) -> list[SupplierRow]:
    """One row per vendor of the inventory (``vendors``: each asset's vendor) plus recorded
    suppliers without assets; most assets first, then vendor name."""
    total = len(vendors)
    counts: dict[str, tuple[str, int]] = {}
    for v in vendors:
        if not v:
            continue
        key = v.casefold()
        name, n = counts.get(key, (v, 0))
        counts[key] = (name, n + 1)
    by_name = {name: s for s in suppliers for name in s.names()}
    rows: list[SupplierRow] = []
    seen: set[str] = set()
    merged: dict[str, tuple[str, int, Supplier | None]] = {}
    for key, (name, n) in counts.items():
        sup = by_name.get(key)
        group = sup.id if sup else "vendor:" + key
        prev = merged.get(group)
        merged[group] = (sup.vendor if sup else name, n + (prev[1] if prev else 0), sup)
    for _group, (name, n, sup) in merged.items():
        if sup:
            seen.add(sup.id)
        rows.append(_row(name, sup, n, total, today))
    for sup in suppliers:
        if sup.id not in seen:
            rows.append(_row(sup.vendor, sup, 0, total, today))
    return sorted(rows, key=lambda r: (-r.assets, r.vendor.casefold()))


def _row(name: str, sup: Supplier | None, n: int, total: int, today: dt.date) -> SupplierRow:
    a = assess(sup, today)
    cert = sup.iec_62443_4_1.certified if sup and sup.iec_62443_4_1 else None
    return SupplierRow(name, sup.id if sup else None, n, n / total if total else 0.0, a.informed, a.reasons,
                       sup.csaf_provider if sup else None, cert)
