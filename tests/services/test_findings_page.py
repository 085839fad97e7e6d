"""advisories.page_findings: the triage queue's page, ordered, counted and cut in the database,
is the same slice as list_findings for every filter and offset, and hides invisible sites."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services.principal import Principal, local_principal
from zonewarden.services.sites import import_documents
from zonewarden.store.advisory_tables import findings
from zonewarden.store.db import open_store

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_is_the_slice_of_the_whole_list(db_url) -> None:  # type: ignore[no-untyped-def]
    store = open_store(db_url)
    me = local_principal()
    import_documents(store, [load_site(ROOT / "examples" / "pharma-plant")], principal=me)
    svc.ingest_bytes(store, svc.read_items(svc.iter_paths([ROOT / "examples" / "advisories"])), principal=me)
    with store.transaction() as conn:  # more rows than a page, of every priority and status
        base = [dict(r) for r in conn.execute(select(findings)).mappings()]
        extra = []
        for i in range(40):
            row = {k: v for k, v in base[i % len(base)].items() if k != "id"}
            extra.append({**row, "asset_id": f"bulk-{i:02d}" if i % 3 else f"Bulk_{i:02d}"})  # case, punctuation
        conn.execute(findings.insert(), extra)
    filters = [{}, {"status": "affected"}, {"status": ["affected", "needs-review"]}, {"priority": "scheduled"},
               {"triage": "new"}, {"zone": base[0]["zone_id"]}, {"site_id": "rheinfeld-os"}]
    for flt in filters:
        whole = [f.id for f in svc.list_findings(store, principal=me, **flt)]
        assert whole, flt
        for size in (7, 25):
            for offset in range(0, len(whole) + size, size):
                rows, total = svc.page_findings(store, principal=me, limit=size, offset=offset, **flt)
                assert total == len(whole)
                assert [f.id for f in rows] == whole[offset:offset + size], (flt, size, offset)
    rows, total = svc.page_findings(store, principal=me, limit=50, asset="bulk-04")
    assert total == 1 and rows[0].asset_id == "bulk-04"
    stranger = Principal(user_id="mallory", method="password", client="web", roles={})
    assert svc.page_findings(store, principal=stranger, limit=50) == ([], 0)
