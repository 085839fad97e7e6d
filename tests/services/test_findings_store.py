"""Bulk finding inserts (services/findings_store.py) store exactly what SQLAlchemy's own insert
stores, on SQLite (executemany of tuples) and PostgreSQL (COPY), inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from zonewarden.services import findings_store
from zonewarden.store.advisory_tables import advisories, findings


def _advisory(conn: Any) -> int:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    return int(conn.execute(advisories.insert().values(
        tracking_id="T-1", version="1", title="t", sha256="0" * 64, source="s", strict=False, deviations=[],
        document="{}", current=True, ingested_at=now,
    )).inserted_primary_key[0])


def _values(advisory_row: int, asset: str, explanation: int = 0) -> dict[str, Any]:
    now = dt.datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    return {
        "site_id": "s1", "tracking_id": "T-1", "advisory_row": advisory_row, "asset_id": asset, "zone_id": None,
        "active": True, "status": "needs-review", "reason": "no-version", "explanation_id": explanation,
        "ssvc": None, "overrides": {"exposure": {"value": "open", "justification": "why \u00e9 \u2603 'q'"}},
        "priority": None, "priority_rank": None, "triage_status": "new", "triage_owner": None,
        "triage_expires": None, "created_at": now, "updated_at": now,
    }


def _row_tuple(codec: findings_store.RowCodec, v: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for col in findings_store.INSERT_COLUMNS:
        value = v[col]
        if col in ("ssvc", "overrides"):
            value = codec.json(value)
        elif col in ("created_at", "updated_at"):
            value = codec.when(value)
        elif col == "triage_expires":
            value = codec.day(value)
        elif col == "active":
            value = codec.flag(value)
        out.append(value)
    return tuple(out)


@pytest.mark.parametrize("ssvc", [None, {"priority": "scheduled", "inputs": {"exposure": {"value": "small"}}}])
def test_bulk_insert_reads_back_as_the_orm_insert(store, ssvc) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        row = _advisory(conn)
        explanation = findings_store.Explanations(conn).id_of(
            "why \u00e9 \u2603 'quoted'", ("CVE-2020-0001",), [{"product_id": "P1", "in_range": None}], {"P1": "a"})
        core = _values(row, "by-core", explanation) | {"ssvc": ssvc}
        conn.execute(findings.insert(), [core])
        codec = findings_store.RowCodec(conn)
        bulk = [_row_tuple(codec, _values(row, f"bulk-{i}", explanation) | {"ssvc": ssvc}) for i in range(3)]
        assert findings_store.insert_findings(conn, bulk) == 3
    with store.read() as conn:
        rows = {r.asset_id: r._asdict() for r in conn.execute(select(findings))}
    assert sorted(rows) == ["bulk-0", "bulk-1", "bulk-2", "by-core"]
    reference = {k: v for k, v in rows.pop("by-core").items() if k not in ("id", "asset_id")}
    for asset, got in rows.items():
        assert {k: v for k, v in got.items() if k not in ("id", "asset_id")} == reference, asset


def test_bulk_insert_is_part_of_the_transaction(store) -> None:  # type: ignore[no-untyped-def]
    with store.transaction() as conn:
        row = _advisory(conn)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        codec = findings_store.RowCodec(conn)
        findings_store.insert_findings(conn, [_row_tuple(codec, _values(row, "a"))])
        raise RuntimeError("rolled back")
    with store.read() as conn:
        assert conn.execute(select(findings.c.id)).first() is None


def test_shared_decisions_equal_the_decision_of_each_asset(store) -> None:  # type: ignore[no-untyped-def]
    """Assets with the same exposure value, criticality and impacts share one SSVC decision
    (their own exposure and impact sources patched in): each stored decision equals the one
    computed for that asset alone, on a plant where one controller model sits in every zone."""
    from pathlib import Path

    import orjson

    from zonewarden.domain.site import SiteDocument
    from zonewarden.engines.matching import match_advisory
    from zonewarden.engines.products import flatten_advisory
    from zonewarden.io.sitefile import load_site
    from zonewarden.services import advisories as svc
    from zonewarden.services.principal import local_principal
    from zonewarden.services.sites import import_documents

    root = Path(__file__).resolve().parents[2]
    data = load_site(root / "examples" / "pharma-plant").model_dump(mode="json", exclude_none=True)
    (plc,) = [a for a in data["assets"] if a["id"] == "comp-plc-p1"]
    for zone in data["zones"]:
        data["assets"].append(plc | {"id": f"plc-copy-{zone['id']}", "name": f"copy in {zone['id']}", "zone": zone["id"],
                                     "addresses": [], "hostnames": []})
    import_documents(store, [SiteDocument.model_validate(data)], principal=local_principal())
    items = [(str(f), f.read_bytes()) for f in sorted((root / "examples" / "advisories").glob("*.json"))]
    svc.ingest_bytes(store, items, principal=local_principal())
    with store.read() as conn:
        (sm,) = svc._site_matchers(conn)
        stored = {(r.tracking_id, r.asset_id): r.ssvc for r in conn.execute(select(findings))}
    sources: dict[tuple[str, str], set[str]] = {}  # (advisory, exposure value) -> exposure sources
    for _, raw in items:
        flat = flatten_advisory(orjson.loads(raw))
        for f in match_advisory(flat, sm.index):
            asset = sm.assets[f.asset_id]
            matches = svc._match_json(f)[0]
            alone = svc._ssvc_for(flat, f, f.status.value, matches, f.cves, asset, sm.exposure[asset.id], None, {})
            assert stored[(flat.id, f.asset_id)] == alone, (flat.id, f.asset_id)
            if alone is not None and asset.id.startswith("plc-copy-"):
                sources.setdefault((flat.id, alone["exposure"]["value"]), set()).add(alone["exposure"]["source"])
    assert max(len(s) for s in sources.values()) >= 2, sources  # one decision served zones of other names


def test_an_explanation_is_stored_once_and_found_again(store) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.store.advisory_tables import finding_explanations

    args = ("m", ("CVE-1",), [{"product_id": "P", "range": "<= 2"}], {"P": "known_affected:affected"})
    with store.transaction() as conn:
        first = findings_store.Explanations(conn).id_of(*args)
        again = findings_store.Explanations(conn).id_of(*args)  # another writer in the same transaction
        other = findings_store.Explanations(conn).id_of("m", ("CVE-2",), *args[2:])
    with store.transaction() as conn:
        later = findings_store.Explanations(conn).id_of(*args)
    assert first == again == later != other
    with store.read() as conn:
        rows = conn.execute(select(finding_explanations)).all()
    assert len(rows) == 2
    stored = {r.id: r for r in rows}[first]
    assert (stored.message, tuple(stored.cves), stored.matches, stored.product_status) == args
    assert stored.digest == findings_store.explanation_digest(*args)
