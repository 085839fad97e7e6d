"""What the auditor package's advisory table needs beyond the stored findings: each finding's
CVSS base scores and the electronic signature behind its triage decision (issue 15.3).

* CVSS comes from the stored advisory document the finding was matched against (its
  ``/vulnerabilities[]/scores``), per CVE of the finding: the v3 score first (else v2), and of
  several scores of one CVE (per product group) the highest base score. A finding that already
  carries ``cvss`` (the matcher recording it) keeps its own.
* The decider: the full name of the person whose e-signature (``signature.apply``) is recorded
  on the finding's triage decision, with the signature's meaning and whether it still matches;
  unsigned decisions keep the actor's account name.

Read only; the caller (``queries.report``) has authorized the site.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import and_, select

from zonewarden.store.db import Store


def _best(scores: Iterable[Any]) -> dict[str, Any] | None:
    ranked = sorted(scores, key=lambda s: (s.version.startswith("3"), s.base_score if s.base_score is not None else -1.0),
                    reverse=True)
    if not ranked:
        return None
    s = ranked[0]
    return {"version": s.version, "base_score": s.base_score, "vector": s.vector}


def cvss_by_advisory(store: Store, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """``(tracking id, version) -> {CVE or vulnerability title: {version, base_score, vector}}``."""
    from zonewarden.engines.products import flatten_advisory
    from zonewarden.store.advisory_tables import advisories

    out: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    with store.read() as conn:
        for tracking_id, version in sorted(set(keys)):
            row = conn.execute(select(advisories.c.document).where(
                and_(advisories.c.tracking_id == tracking_id, advisories.c.version == version)).limit(1)).first()
            if row is None:
                continue
            try:
                flat = flatten_advisory(orjson.loads(row.document))
            except Exception:  # noqa: BLE001 - stored documents were read before; a score is not worth a refusal
                continue
            per: dict[str, dict[str, Any]] = {}
            for v in flat.vulnerabilities:
                best = _best(v.scores)
                key = v.cve or v.title
                if best is not None and key:
                    per[key] = best
            out[(tracking_id, version)] = per
    return out


def finding_signatures(store: Store, site_id: str) -> dict[int, dict[str, Any]]:
    """Finding id -> the latest e-signature on its triage decision (signer, full name, meaning,
    signed at, status)."""
    from zonewarden.services import signatures
    from zonewarden.store.tables import audit_events

    with store.read() as conn:
        t = audit_events.c
        ids = {r.object_id for r in conn.execute(select(t.object_id).where(
            t.action == signatures.ACTION, t.site_id == site_id, t.object_type == "finding"))}
        records = signatures._finding_records(conn, ids)
        views = signatures.signatures_of(conn, site_id, records, object_type="finding")
    out: dict[int, dict[str, Any]] = {}
    for v in views:  # oldest first: the last one signed the decision in force
        try:
            out[int(v.object_id)] = {"signer": v.signer, "full_name": v.full_name, "meaning": v.meaning,
                                     "signed_at": v.signed_at, "status": v.status}
        except ValueError:
            continue
    return out


def enrich(store: Store, site_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (from ``advisories.evidence_data``) with ``cvss`` (list, one per CVE) on each
    finding and ``signatures`` (finding id as text -> signature) added."""
    findings = data.get("findings") or []
    scores = cvss_by_advisory(store, [(f["advisory"], f["advisory_version"]) for f in findings if "cvss" not in f])
    for f in findings:
        if "cvss" in f:
            continue
        per = scores.get((f["advisory"], f["advisory_version"]), {})
        keys = list(f.get("cves") or []) or sorted(per)
        f["cvss"] = [{"cve": k, **per[k]} for k in keys if k in per]
    data["signatures"] = {str(k): v for k, v in sorted(finding_signatures(store, site_id).items())}
    return data


__all__ = ["cvss_by_advisory", "enrich", "finding_signatures"]
