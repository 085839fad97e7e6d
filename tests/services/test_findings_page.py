"""The findings list paged in the database gives the pages of the full list, in its order, with
the same visibility and filters (SQLite and PostgreSQL: code-point order on both)."""

from __future__ import annotations

from pathlib import Path

from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories, sites
from zonewarden.services.findings_page import findings_page
from zonewarden.services.principal import Principal, local_principal

ROOT = Path(__file__).resolve().parents[2]


def _key(f):  # type: ignore[no-untyped-def]
    return f.id


def test_pages_are_the_full_list_in_its_order(store) -> None:  # type: ignore[no-untyped-def]
    me = local_principal(name="setup")
    doc = load_site(ROOT / "examples" / "pharma-plant")
    sites.import_documents(store, [doc], principal=me)
    advisories.ingest_bytes(store, advisories.read_items(advisories.iter_paths([ROOT / "examples" / "advisories"])),
                            principal=me)
    full = advisories.list_findings(store, principal=me)
    assert len(full) > 10
    paged: list = []  # type: ignore[type-arg]
    offset = 0
    while True:
        rows, total = findings_page(store, principal=me, limit=7, offset=offset)
        assert total == len(full)
        if not rows:
            break
        paged += rows
        offset += 7
    # The same order (ties on site, advisory and asset are broken by id in SQL) and the same rows.
    assert [(f.priority, f.status, f.site_id, f.tracking_id, f.asset_id) for f in paged] \
        == [(f.priority, f.status, f.site_id, f.tracking_id, f.asset_id) for f in full]
    assert sorted(map(_key, paged)) == sorted(map(_key, full)) and len(set(map(_key, paged))) == len(paged)
    assert paged[0].as_json() == full[0].as_json()

    some = full[0]
    rows, total = findings_page(store, principal=me, priority=some.priority, status=[some.status], limit=1000)
    expected = advisories.list_findings(store, principal=me, priority=some.priority, status=[some.status])
    assert total == len(expected) and {f.id for f in rows} == {f.id for f in expected}

    viewer = Principal(user_id="vic", method="token", roles={doc.site.id: frozenset({"viewer"})})
    stranger = Principal(user_id="sam", method="token", roles={"elsewhere": frozenset({"viewer"})})
    customer = Principal(user_id="cus", method="token", roles={doc.site.id: frozenset({"customer"})})
    assert findings_page(store, principal=viewer, limit=1000)[1] == len(full)
    assert findings_page(store, principal=stranger, limit=1000) == ([], 0)
    assert findings_page(store, principal=customer, limit=1000) == ([], 0)
    assert advisories.list_findings(store, principal=customer) == []

    # the triage queue's asset filter (the page used to filter the whole list in Python)
    one = full[-1]
    rows, total = findings_page(store, principal=me, asset=one.asset_id, limit=1000)
    assert total == sum(1 for f in full if f.asset_id == one.asset_id) and {f.asset_id for f in rows} == {one.asset_id}
