"""Advisories for people: the list (searched and paged in the database) and one advisory in
detail (products, CVEs with CVSS and CWE, remediations, references, KEV, SSVC priority, and the
assets of the plant it matched).

Advisories are feed data, listed to every caller as by the API (``GET /api/v1/advisories``);
what an advisory matched (assets, findings, priority) is shown only for the sites the principal
may see. Queries never write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import ColumnElement, func, or_, select

from zonewarden.domain.priority import Priority
from zonewarden.errors import NotFoundError
from zonewarden.services import advisories as adv
from zonewarden.services.principal import Principal
from zonewarden.store.advisory_tables import advisories, kev_entries
from zonewarden.store.db import Store


@dataclass(frozen=True, slots=True)
class AdvisoryPage:
    rows: tuple[adv.AdvisoryRow, ...]
    total: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(store: Store, *, principal: Principal, q: str | None = None, offset: int = 0,
           limit: int = 50) -> AdvisoryPage:
    """Current advisories, newest release first; ``q`` matches the tracking id, title,
    publisher, or any text of the document (a CVE id, a product vendor), case-insensitively."""
    del principal  # feed data: every caller may list it (the API does the same)
    cond: ColumnElement[bool] = advisories.c.current.is_(True)
    if q and q.strip():
        pattern = _like(q.strip().lower())
        cond = cond & or_(*(func.lower(c).like(pattern, escape="\\") for c in (
            advisories.c.tracking_id, advisories.c.title, advisories.c.publisher, advisories.c.document)))
    cols = [advisories.c[c] for c in adv._ADV_COLS]
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(advisories).where(cond)).scalar_one()
        rows = conn.execute(
            select(*cols).where(cond)
            .order_by(advisories.c.release_date.desc().nulls_last(), advisories.c.tracking_id)
            .offset(offset).limit(limit)
        )
        out = tuple(adv._advisory_row(r) for r in rows)
    return AdvisoryPage(out, int(total))


@dataclass(frozen=True, slots=True)
class Reference:
    url: str
    summary: str
    source: str
    """``publisher`` (the document's own, category self), ``CISA`` (a cisa.gov address) or ``external``."""
    linkable: bool
    """Only http and https addresses become links; anything else is shown as text."""


@dataclass(frozen=True, slots=True)
class CveView:
    cve: str | None
    title: str | None
    cwe: str | None
    scores: tuple[Any, ...]
    """``CvssScore`` (version, vector, base score)."""
    kev: bool
    remediations: tuple[Any, ...]
    """``Remediation`` (category vendor_fix / mitigation / workaround / ..., details, url)."""


@dataclass(frozen=True, slots=True)
class MatchedProduct:
    product_id: str
    name: str
    assets: tuple[tuple[str, str, int, str], ...]
    """(site, asset, finding id, matcher status) of the visible findings on this product entry."""


@dataclass(frozen=True, slots=True)
class AdvisoryDetail:
    row: adv.AdvisoryRow
    cves: tuple[CveView, ...]
    references: tuple[Reference, ...]
    matched: tuple[MatchedProduct, ...]
    findings: tuple[adv.FindingRow, ...]
    kev: bool
    priority: str | None
    """The most urgent SSVC priority among the visible findings."""
    other_products: int
    """Product entries of the tree that matched no visible asset."""


def _source_of(category: str | None, url: str) -> str:
    host = (urlsplit(url).hostname or "").lower() if url else ""
    if host == "cisa.gov" or host.endswith(".cisa.gov"):
        return "CISA"
    return "publisher" if category == "self" else "external"


def _linkable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def detail(store: Store, tracking_id: str, *, principal: Principal) -> AdvisoryDetail:
    """The current revision of ``tracking_id`` in detail (404 when not stored)."""
    with store.read() as conn:
        r = conn.execute(
            select(*(advisories.c[c] for c in adv._ADV_COLS), advisories.c.document)
            .where(advisories.c.tracking_id == tracking_id, advisories.c.current.is_(True))
        ).first()
        if r is None:
            raise NotFoundError(f"no advisory {tracking_id!r} stored (see /advisories or `zonewarden advisories list`)")
        row = adv._advisory_row(r)
        flat = adv._reflatten(r)  # the stored document is the only form: read as matching reads it
        doc = orjson.loads(r.document)
        names = [v.cve for v in flat.vulnerabilities if v.cve]
        kev = set(conn.execute(select(kev_entries.c.cve).where(kev_entries.c.cve.in_(names))).scalars()) if names else set()
    refs = []
    for ref in (doc.get("document") or {}).get("references") or []:
        if not isinstance(ref, dict) or not isinstance(ref.get("url"), str):
            continue
        url = ref["url"]
        refs.append(Reference(url, str(ref.get("summary") or ""), _source_of(ref.get("category"), url), _linkable(url)))
    cves = tuple(
        CveView(v.cve, v.title, v.cwe, v.scores, bool(v.cve and v.cve in kev), v.remediations) for v in flat.vulnerabilities
    )
    found = tuple(adv.list_findings(store, principal=principal, advisory=tracking_id))
    by_product: dict[str, list[tuple[str, str, int, str]]] = {}
    for f in found:
        for m in f.matches:
            by_product.setdefault(str(m.get("product_id")), []).append((f.site_id, f.asset_id, f.id, f.status))
    matched = tuple(
        MatchedProduct(p.product_id, p.name, tuple(by_product[p.product_id])) for p in flat.products if p.product_id in by_product
    )
    ranks = [Priority(f.priority) for f in found if f.priority]
    priority = max(ranks, key=lambda p: p.rank).value if ranks else None
    return AdvisoryDetail(row, cves, tuple(refs), matched, found, bool(kev), priority,
                          len(flat.products) - len(matched))


__all__ = ["AdvisoryDetail", "AdvisoryPage", "detail", "search"]
