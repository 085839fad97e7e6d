"""VEX use cases: record supplier VEX statements, accept one from another source, and close the
findings a statement says are not affected.

* ``import_vex``: a CSAF VEX document (about products wherever they are installed; operation
  ``vex.import``) or a CycloneDX VEX about one asset's SBOM components (``--site``/``--asset``;
  operation ``sbom.import`` on that site). Every statement is recorded, with ``from_supplier``:
  whether the publisher is the product's supplier through the vendor registry (CSAF: the
  publisher is the entry's vendor; CycloneDX: the VEX's author is the component's supplier or
  the vendor of the asset that ships it). A new revision of a document replaces its
  statements; the same bytes again change nothing. One ``vex.import`` audit event.
* ``accept``: a person accepts a statement from a source that is not the supplier, for one
  site (``vex.accept``, an approval: signed via services/signatures.py). One ``vex.accept``
  audit event (and the signature event).
* ``apply``: every open finding (triage new or under-assessment, status affected or
  needs-review) whose every CVE, for every entry match that gave its status, is covered by an
  effective ``not_affected`` statement (:mod:`zonewarden.engines.vex`) is moved to triage
  ``not-affected`` by zonewarden, with the justification and impact as the decision's why; one
  ``finding.vex_close`` audit event per finding. Run after each VEX import or acceptance, after
  an SBOM import, after a site's rematch, and after advisory ingest (on the findings of the
  ingested advisories, or on all when the batch recorded statements).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, delete, exists, func, literal, select, update

from zonewarden.domain.site import Asset, SiteDocument
from zonewarden.engines.sbom_match import SbomComponent, component_seq
from zonewarden.engines.vex import Statement, covers, is_supplier
from zonewarden.errors import InputError, NotFoundError, Problem
from zonewarden.io.vex import MAX_VEX_BYTES, VexDocument, csaf_statements, read_vex
from zonewarden.runtime import batched
from zonewarden.services import audit, identity, signatures
from zonewarden.services.principal import SYSTEM, Principal
from zonewarden.services.signatures import Signing
from zonewarden.store.advisory_tables import (
    finding_explanations,
    findings,
    findings_explained,
    triage_decisions,
)
from zonewarden.store.db import Store
from zonewarden.store.sbom_tables import vex_statements
from zonewarden.store.tables import sites

_OPEN = ("new", "under-assessment")
_CLOSABLE = ("affected", "needs-review")


@dataclass(frozen=True)
class VexImportReport:
    document_id: str
    format: str
    publisher: str
    statements: int
    from_supplier: int
    not_affected: int
    unchanged: bool
    closed: int


def _read(path: str | Path) -> bytes:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_VEX_BYTES:
            raise InputError(f"{p}: the VEX is over the limit of {MAX_VEX_BYTES:,} bytes",
                             [Problem("file too large", file=str(p))])
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read the VEX ({exc.strerror or exc})", [Problem("check the path", file=str(p))]) from None


def import_vex(
    store: Store, path: str | Path, *, principal: Principal, site_id: str | None = None, asset_id: str | None = None,
    reason: str | None = None, data: bytes | None = None,
) -> VexImportReport:
    """Record the statements of the VEX document at ``path`` (or ``data``) and apply them."""
    source = str(path)
    raw = data if data is not None else _read(path)
    vex = read_vex(raw, source)
    if vex.format == "cyclonedx":
        if not (site_id and asset_id):
            raise InputError(f"{source}: a CycloneDX VEX is about one asset's SBOM components: give --site and --asset",
                             [Problem("the bom-refs of its analyses are resolved in that asset's SBOM", file=source)])
        identity.authorize(store, principal, "sbom.import", site_id)
    else:
        if asset_id:
            raise InputError(f"{source}: a CSAF VEX is about products wherever they are installed; --asset does not apply")
        identity.authorize(store, principal, "vex.import")
        site_id = None
    sha = hashlib.sha256(raw).hexdigest()
    with store.transaction() as conn:
        done = record(conn, vex, sha, principal=principal, source=source, site_id=site_id, asset_id=asset_id,
                      reason=reason or f"{vex.format} VEX {Path(source).name} by {vex.publisher}")
    if done.unchanged:
        return VexImportReport(vex.document_id, vex.format, vex.publisher, len(vex.statements), 0, 0, True, 0)
    closed = apply(store, site_ids=[site_id] if site_id else None)
    return VexImportReport(vex.document_id, vex.format, vex.publisher, done.statements, done.from_supplier,
                           done.not_affected, False, closed)


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` did with one VEX document."""

    statements: int
    from_supplier: int
    not_affected: int
    replaced: int
    """Statements of an earlier revision of the document that these replaced."""
    unchanged: bool
    """The same bytes were recorded already: nothing was written."""


NOTHING = Recorded(0, 0, 0, 0, True)


def record(conn: Any, vex: VexDocument, sha: str, *, principal: Principal, source: str, site_id: str | None = None,
           asset_id: str | None = None, reason: str | None = None, now: dt.datetime | None = None,
           log: audit.Buffer | None = None) -> Recorded:
    """Record the statements of ``vex`` (read from bytes whose SHA-256 is ``sha``) inside the
    caller's transaction ``conn``: the one path of ``vex import`` and of a CSAF VEX arriving
    through ``advisories ingest`` / ``sync``. Statements of another revision of the same
    document (same id, same scope) are replaced; the same bytes again write nothing. One
    ``vex.import`` audit event (into ``log`` when the caller buffers its events). The caller
    runs :func:`apply` after its commit."""
    now = now or dt.datetime.now(dt.UTC)
    scope = vex_statements.c.site_id.is_(None) if site_id is None else vex_statements.c.site_id == site_id
    doc_id = vex.document_id[:200]
    same = conn.execute(select(vex_statements.c.id).where(
        vex_statements.c.document_id == doc_id, vex_statements.c.sha256 == sha, scope).limit(1)).first()
    if same is not None:
        return NOTHING
    rows = _rows(conn, vex, sha, site_id, asset_id, now, source)
    replaced = conn.execute(delete(vex_statements).where(vex_statements.c.document_id == doc_id, scope)).rowcount
    if rows:
        conn.execute(vex_statements.insert(), rows)
    supplier = sum(1 for r in rows if r["from_supplier"])
    na = sum(1 for r in rows if r["state"] == "not_affected")
    event: dict[str, Any] = dict(
        action="vex.import", **principal.audit_fields, site_id=site_id, object_type="vex",
        object_id=doc_id, reason=reason or f"{vex.format} VEX {Path(source).name} by {vex.publisher}",
        before={"statements": replaced} if replaced else None,
        after={"sha256": sha, "publisher": vex.publisher, "statements": len(rows), "from_supplier": supplier,
               "not_affected": na, "asset": asset_id, "source": source[:1000],
               "list": [{"vulnerability": r["vulnerability"], "product": r["product"], "state": r["state"],
                         "from_supplier": r["from_supplier"], "justification": r["justification"]}
                        for r in rows[:50]]},
        at=now,
    )
    if log is not None:
        log.add(**event)
    else:
        audit.append(conn, **event)
    return Recorded(len(rows), supplier, na, replaced or 0, False)


def csaf_part(document: dict[str, Any], flat: Any, source: str) -> VexDocument | None:
    """The VEX statements of a CSAF document that ingest accepted: those of a ``csaf_vex``
    document, None for any other category (a security advisory's ``known_not_affected`` is
    applied by the matcher to that advisory's own findings; see docs/advisory-matching.md).
    ``flat`` is the flattened document, or None when ingest has not flattened it (then it is
    flattened here, for a VEX only). InputError with the JSON pointer of each incomplete
    statement."""
    if ((document.get("document") or {}).get("category")) != "csaf_vex":
        return None
    if flat is None:
        from zonewarden.engines.products import flatten_advisory

        flat = flatten_advisory(document, source=source)
    return csaf_statements(document, flat, source)


def _rows(conn: Any, vex: VexDocument, sha: str, site_id: str | None, asset_id: str | None, now: dt.datetime,
          source: str) -> list[dict[str, Any]]:
    asset: Asset | None = None
    stored: dict[str, SbomComponent] = {}
    if vex.format == "cyclonedx":
        from zonewarden.services.sbom import components_of
        from zonewarden.services.sites import _stored_data
        from zonewarden.store.sbom_tables import sbom_components

        data = _stored_data(conn, site_id or "")
        if data is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        asset = next((a for a in SiteDocument.model_validate(data).assets if a.id == asset_id), None)
        if asset is None:
            raise NotFoundError(f"no asset {asset_id!r} in site {site_id!r}")
        refs = {r.bom_ref: r.seq for r in conn.execute(select(sbom_components.c.bom_ref, sbom_components.c.seq).where(
            sbom_components.c.site_id == site_id, sbom_components.c.asset_id == asset_id))}
        by_seq = {c.seq: c for c in components_of(conn, site_id or "", [asset_id or ""]).get(asset_id or "", [])}
        stored = {ref: by_seq[seq] for ref, seq in refs.items() if ref}
    rows = []
    problems = []
    for s in vex.statements:
        vendor, product, purl, cpe, version, supplier = s.vendor, s.product, s.purl, s.cpe, s.version, s.component_supplier
        if vex.format == "cyclonedx" and product is None:
            c = stored.get(s.ref or "")
            if c is None:
                problems.append(Problem(f"{s.pointer}: bom-ref {s.ref!r} is neither in this file nor in the SBOM of "
                                        f"{asset_id} (import the SBOM first)", file=source))
                continue
            product, purl, cpe, version, supplier, vendor = c.name, c.purl, c.cpe, c.version, c.supplier, c.supplier
        if vex.format == "cyclonedx":
            from_supplier = is_supplier(vex.publisher, supplier) or is_supplier(vex.publisher, asset.vendor if asset else None)
        else:
            from_supplier = is_supplier(vex.publisher, vendor)
        rows.append({
            "format": vex.format, "document_id": vex.document_id[:200], "sha256": sha, "publisher": vex.publisher[:500],
            "site_id": site_id, "asset_id": asset_id, "vulnerability": s.vulnerability[:200], "vendor": vendor and vendor[:500],
            "product": product and product[:1000], "purl": purl, "cpe": cpe, "version": version and version[:200],
            "state": s.state, "justification": s.justification, "impact": s.impact, "pointer": s.pointer[:300],
            "from_supplier": from_supplier, "accepted_by": None, "accepted_at": None, "acceptance": None, "recorded_at": now,
        })
    if problems:
        raise InputError(f"{source}: a VEX statement names a component that is not known", problems)
    return rows


def _statement(r: Any) -> Statement:
    acc = r.acceptance or {}
    return Statement(
        id=r.id, document_id=r.document_id, publisher=r.publisher, vulnerability=r.vulnerability, state=r.state,
        vendor=r.vendor, product=r.product, purl=r.purl, cpe=r.cpe, version=r.version, justification=r.justification,
        impact=r.impact, site_id=r.site_id, asset_id=r.asset_id, from_supplier=bool(r.from_supplier),
        accepted=tuple(sorted((site, str(v.get("by"))) for site, v in acc.items())),
    )


def list_statements(store: Store, *, principal: Principal, site_id: str | None = None) -> list[dict[str, Any]]:
    """Recorded statements (of every product, and of the site's assets), for display."""
    if site_id is not None:
        identity.authorize(store, principal, "site.read", site_id)
    with store.read() as conn:
        stmt = select(vex_statements).order_by(vex_statements.c.id)
        rows = conn.execute(stmt).all()
    out = []
    for r in rows:
        if r.site_id is not None and r.site_id != site_id:
            continue
        s = _statement(r)
        closes = "yes" if s.from_supplier and s.state == "not_affected" else (
            ("accepted on " + ", ".join(site for site, _ in s.accepted)) if s.accepted else
            "no: not from the supplier, awaiting acceptance" if s.state == "not_affected" else "no")
        out.append({"id": r.id, "document": r.document_id, "publisher": r.publisher, "vulnerability": r.vulnerability,
                    "product": " ".join(x for x in (r.vendor, r.product, r.version) if x) or r.purl or r.cpe,
                    "asset": r.asset_id, "state": r.state, "justification": r.justification, "impact": r.impact,
                    "from_supplier": bool(r.from_supplier), "closes": closes, "pointer": r.pointer})
    return out


def accept(store: Store, statement_id: int, site_id: str, why: str, *, principal: Principal,
           signing: Signing | None = None) -> int:
    """Accept a statement from a source that is not the product's supplier, on ``site_id``;
    apply it. Returns how many findings it closed."""
    why = (why or "").strip()
    if len(why) < 10:
        raise InputError("--why must say why the statement is trusted, in at least 10 characters (it becomes audit evidence)")
    identity.authorize(store, principal, "vex.accept", site_id)
    signer = signatures.confirm(store, principal, "vex.accept", signing)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        r = conn.execute(select(vex_statements).where(vex_statements.c.id == statement_id)).first()
        if r is None:
            raise NotFoundError(f"no VEX statement {statement_id} (see `zonewarden vex list`)")
        if r.site_id is not None and r.site_id != site_id:
            raise InputError(f"VEX statement {statement_id} is about an asset of site {r.site_id}, not {site_id}")
        if conn.execute(select(sites.c.id).where(sites.c.id == site_id)).first() is None:
            raise NotFoundError(f"no site {site_id!r} in the database")
        if r.state != "not_affected":
            raise InputError(f"VEX statement {statement_id} says {r.state}; only a not_affected statement is accepted")
        acceptance = dict(r.acceptance or {})
        record = {"statement": statement_id, "document": r.document_id, "vulnerability": r.vulnerability,
                  "publisher": r.publisher, "by": principal.user_id, "at": now.isoformat(timespec="seconds"), "why": why}
        acceptance[site_id] = record
        conn.execute(update(vex_statements).where(vex_statements.c.id == statement_id).values(
            accepted_by=principal.user_id, accepted_at=now, acceptance=acceptance))
        audit.append(conn, action="vex.accept", **principal.audit_fields, site_id=site_id, object_type="vex-statement",
                     object_id=str(statement_id), reason=why, before=None, after=record, at=now)
        if signing is not None and signatures.needs_signature(signer, "vex.accept"):
            head = conn.execute(select(sites.c.data).where(sites.c.id == site_id)).scalar() or {}
            timezone = ((head.get("site") or {}) if isinstance(head, dict) else {}).get("timezone")
            audit.append(conn, **signatures.signature_event(  # type: ignore[arg-type]
                signer, "vex.accept", site_id, timezone, signing, "vex-statement", str(statement_id), record, now))
    return apply(store, site_ids=[site_id])


def apply(store: Store, *, site_ids: Sequence[str] | None = None, tracking_ids: Sequence[str] | None = None) -> int:
    """Close the open findings (of ``site_ids``, of the advisories ``tracking_ids``; default all)
    that effective not-affected statements cover; how many were closed."""
    if tracking_ids is not None and not tracking_ids:
        return 0
    from zonewarden.services.sbom import components_of

    with store.read() as conn:
        statements = [_statement(r) for r in conn.execute(
            select(vex_statements).where(vex_statements.c.state == "not_affected"))]
    if not statements:
        return 0
    by_cve: dict[str, list[Statement]] = defaultdict(list)
    for s in statements:
        by_cve[s.vulnerability.upper()].append(s)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        rows = _candidates(conn, sorted(by_cve), site_ids, tracking_ids)
        wanted: dict[str, set[str]] = defaultdict(set)
        for r in rows:
            wanted[r.site_id].add(r.asset_id)
        docs: dict[str, dict[str, Asset]] = {}
        comps: dict[str, dict[str, list[SbomComponent]]] = defaultdict(dict)
        for site, ids in wanted.items():
            docs[site] = _assets(conn, site, sorted(ids))
            for chunk in batched(sorted(ids), 500):
                comps[site].update(components_of(conn, site, chunk))
        log = audit.Buffer()
        decisions: list[dict[str, Any]] = []
        memo: dict[tuple[Any, ...], bool] = {}
        for r in rows:
            asset = docs[r.site_id].get(r.asset_id)
            if asset is None:
                continue
            used = _covering(r, asset, comps[r.site_id].get(r.asset_id, []), by_cve, memo)
            if used is None:
                continue
            why = "; ".join(dict.fromkeys(s.why(r.site_id) for s in used))
            decisions.append(dict(
                finding_id=r.id, at=now, actor=SYSTEM.user_id, from_status=r.triage_status, to_status="not-affected",
                why=why[:8000], owner=None, expires=None, controls=[], automatic=True))
            log.add(action="finding.vex_close", **SYSTEM.audit_fields, site_id=r.site_id, object_type="finding",
                    object_id=str(r.id), reason=why[:2000], before={"triage": r.triage_status},
                    after={"triage": "not-affected", "advisory": r.tracking_id, "asset": r.asset_id,
                           "statements": sorted({s.id for s in used})}, at=now)
        # One statement per table, not two per finding: building a statement per row cost
        # more than the database's work (thousands of closures when a supplier's VEX arrives).
        if decisions:
            conn.execute(triage_decisions.insert(), decisions)
        for done_ids in batched([d["finding_id"] for d in decisions], 500):
            conn.execute(update(findings).where(findings.c.id.in_(done_ids)).values(
                triage_status="not-affected", triage_owner=None, triage_expires=None, updated_at=now))
        closed = len(decisions)
        log.flush(conn)
    return closed


def _assets(conn: Any, site_id: str, ids: Sequence[str]) -> dict[str, Asset]:
    """The stored assets ``ids`` of a site, by id: only the assets of candidate findings are
    validated (the whole site document of a 10k-asset plant cost more than the rest of
    ``apply``, and ingest runs ``apply`` after every call)."""
    from zonewarden.services.sites import TRUSTED
    from zonewarden.store.tables import assets

    out: dict[str, Asset] = {}
    for chunk in batched(ids, 500):
        for (text,) in conn.execute(select(cast(assets.c.data, Text)).where(
                assets.c.site_id == site_id, assets.c.id.in_(chunk))):
            a = Asset.model_validate_json(text, context=TRUSTED)
            out[a.id] = a
    return out


def _cves_of_explanation(conn: Any) -> Any:
    """The CVE ids of ``finding_explanations.cves`` (a JSON array) as a table with a ``value``
    column, in the database's own JSON functions: the filter by CVE runs in SQL."""
    if conn.dialect.name == "postgresql":
        return func.json_array_elements_text(finding_explanations.c.cves).table_valued("value")
    return func.json_each(finding_explanations.c.cves).table_valued("value")  # SQLite


#: CVE ids per query (bound parameters; SQLite allows 32,766 in all).
_CVE_CHUNK = 500


def _candidates(conn: Any, cves: Sequence[str], site_ids: Sequence[str] | None,
                tracking_ids: Sequence[str] | None = None) -> list[Any]:
    """Open, closable, active findings (of ``site_ids``, of ``tracking_ids``) whose explanation names one of ``cves``
    (upper case), by site and id. The database does the filtering: a large plant has millions
    of findings and a VEX statement is about a few CVEs, so reading every open finding into
    Python to look at its CVEs cost more than everything else ``apply`` does."""
    found: dict[int, Any] = {}
    tids: list[list[str] | None] = list(batched(tracking_ids, _CVE_CHUNK)) if tracking_ids is not None else [None]
    for chunk, tid in ((c, t) for c in batched(cves, _CVE_CHUNK) for t in tids):
        value = _cves_of_explanation(conn)
        stmt = (select(findings.c.id, findings.c.site_id, findings.c.asset_id, findings.c.status,
                       findings.c.triage_status, findings.c.tracking_id, finding_explanations.c.matches,
                       finding_explanations.c.cves)
                .select_from(findings_explained)
                .where(findings.c.active.is_(True), findings.c.status.in_(_CLOSABLE),
                       findings.c.triage_status.in_(_OPEN),
                       exists(select(literal(1)).select_from(value).where(func.upper(value.c.value).in_(list(chunk))))))
        if site_ids is not None:
            stmt = stmt.where(findings.c.site_id.in_(list(site_ids)))
        if tid is not None:
            stmt = stmt.where(findings.c.tracking_id.in_(tid))
        for r in conn.execute(stmt):
            found[r.id] = r
    return sorted(found.values(), key=lambda r: (r.site_id, r.id))


def _covers(s: Statement, cve: str, asset: Asset, product_name: str, component: SbomComponent | None,
            memo: dict[tuple[Any, ...], bool]) -> bool:
    """:func:`covers`, remembered for statements about products (not one asset's component)
    by what ``covers`` reads of the asset: a plant repeats the same product many times."""
    if component is not None or s.asset_id is not None:
        return covers(s, cve, asset, product_name, component)
    key = (s.id, cve, product_name, asset.vendor, asset.product, asset.version, asset.purl, asset.cpe)
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = covers(s, cve, asset, product_name, None)
    return hit


def _covering(r: Any, asset: Asset, components: list[SbomComponent], by_cve: dict[str, list[Statement]],
              memo: dict[tuple[Any, ...], bool] | None = None) -> list[Statement] | None:
    """The statements that cover every CVE of every deciding match of the finding, or None."""
    memo = {} if memo is None else memo
    by_seq = {c.seq: c for c in components}
    used: list[Statement] = []
    deciding = [m for m in r.matches or () if m.get("status") == r.status]
    if not deciding:
        return None
    for m in deciding:
        seq = component_seq(m.get("matched_value") or "")
        component = by_seq.get(seq) if seq is not None else None
        if seq is not None and component is None:
            return None  # the component is gone from the SBOM: rematch will settle it
        for cve in m.get("cves") or r.cves or ():
            hit = next((s for s in by_cve.get(cve.upper(), ())
                        if s.effective_on(r.site_id) and _covers(s, cve, asset, m.get("product_name") or "", component, memo)),
                       None)
            if hit is None:
                return None
            used.append(hit)
    return used or None
