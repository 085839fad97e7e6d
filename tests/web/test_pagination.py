"""Every list page paginates: with more rows than a page holds, the first page shows a page,
says how many there are, links the next page, and the next page shows the rest."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from zonewarden.services import audit, identity, sites
from zonewarden.services.principal import local_principal
from zonewarden.store.advisory_tables import findings

from .conftest import EXAMPLE, PW, SITE


def _pager(html: str, label: str) -> str:
    found = re.search(rf'<nav class="pager" aria-label="{label}">(.*?)</nav>', html, re.S)
    assert found, f"no pager {label!r} on the page"
    return found.group(1)


def test_the_triage_queue_pages_by_50(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    store = web.store  # type: ignore[attr-defined]
    with store.transaction() as conn:
        row = dict(conn.execute(select(findings).where(findings.c.status == "affected")).mappings().first())
        row.pop("id")
        conn.execute(findings.insert(), [{**row, "asset_id": f"bulk-{i:03d}"} for i in range(60)])
        total = len(conn.execute(select(findings.c.id).where(findings.c.status == "affected",
                                                            findings.c.active.is_(True))).all())
    login(web, "vic")
    first = web.get("/findings").text
    assert first.count('<tr><td><span class="sev prio-') == 50
    assert f"1–50 of {total}" in _pager(first, "Finding pages") and "offset=50" in first
    second = web.get("/findings?status=affected&offset=50").text
    assert second.count('<tr><td><span class="sev prio-') == total - 50
    assert "Previous" in _pager(second, "Finding pages") and "Next" not in _pager(second, "Finding pages")


def test_the_audit_log_pages_by_100(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    store = web.store  # type: ignore[attr-defined]
    with store.transaction() as conn:
        audit.append_many(conn, [{"action": "test.event", "actor": "setup", "site_id": SITE, "object_type": "t",
                                  "object_id": f"e{i}", "context": {"method": "local", "client": "cli"}}
                                 for i in range(130)])
    login(web, "eve")
    first = web.get("/audit?action=test.event").text
    assert len(re.findall(r"<td>test\.event</td>", first)) == 100
    assert "1–100 of 130" in _pager(first, "Audit pages")
    second = web.get("/audit?action=test.event&offset=100").text
    assert len(re.findall(r"<td>test\.event</td>", second)) == 30
    assert "101–130 of 130" in _pager(second, "Audit pages")


def test_a_zone_page_pages_its_assets_by_50(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.io.sitefile import load_site

    doc = load_site(EXAMPLE)
    model = next(a for a in doc.assets if a.zone == "coat")
    extra = tuple(model.model_copy(update={"id": f"coat-bulk-{i:03d}", "name": f"Bulk {i}", "addresses": (),
                                           "hostnames": ()}) for i in range(60))
    sites.import_documents(web.store, [doc.model_copy(update={"assets": doc.assets + extra})],  # type: ignore[attr-defined]
                           principal=local_principal(name="setup"), force=True)
    total = sum(1 for a in doc.assets if a.zone == "coat") + 60
    login(web, "vic")
    first = web.get(f"/sites/{SITE}/zones/coat").text
    assert f"Assets ({total})" in first and first.count('<span class="muted">coat-') + first.count("coat-bulk-") > 0
    assert f"1–50 of {total}" in _pager(first, "Asset pages")
    rows_first = re.findall(r'<tr><td>[^<]*<span class="muted">([^<]+)</span>', first)
    second = web.get(f"/sites/{SITE}/zones/coat?offset=50").text
    rows_second = re.findall(r'<tr><td>[^<]*<span class="muted">([^<]+)</span>', second)
    assert len(rows_first) == 50 and len(rows_second) == total - 50
    assert not set(rows_first) & set(rows_second)


def test_the_admin_page_pages_users_and_tokens_by_50(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    store = web.store  # type: ignore[attr-defined]
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    for i in range(53):
        identity.create_token(store, admin, "ada", label=f"bulk {i}")
    from zonewarden.store.identity_tables import users as users_table

    with store.transaction() as conn:  # 50 more accounts without hashing 50 passwords
        proto = dict(conn.execute(select(users_table).where(users_table.c.name == "vic")).mappings().first())
        conn.execute(users_table.insert(), [{**{k: v for k, v in proto.items() if k != "id"},
                                             "name": f"bulk{i:02d}", "full_name": f"Bulk {i}"} for i in range(50)])
    n_users = len(identity.list_users(store, admin))
    n_tokens = len(identity.list_tokens(store, admin))
    assert n_users > 50 and n_tokens > 50
    login(web, "ada")
    first = web.get("/admin").text
    assert f"users 1–50 of {n_users}" in _pager(first, "User pages")
    assert f"tokens 1–50 of {n_tokens}" in _pager(first, "Token pages")
    assert first.count("End sessions <span") == 50
    # the role form still offers every user
    assert len(re.findall(r'<option value="bulk\d\d">', first)) == 50
    second = web.get("/admin?users=50&tokens=50").text
    assert second.count("End sessions <span") == n_users - 50
    assert f"tokens 51–{n_tokens} of {n_tokens}" in _pager(second, "Token pages")


def test_the_site_page_pages_zones_conduits_and_check_findings(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.io.sitefile import load_site

    doc = load_site(EXAMPLE)
    zone = doc.zones[0]
    conduit = doc.conduits[0]
    zones = tuple(zone.model_copy(update={"id": f"bulk-z{i:03d}", "name": f"Bulk zone {i}"}) for i in range(60))
    conduits = tuple(conduit.model_copy(update={"id": f"bulk-c{i:03d}", "name": f"Bulk conduit {i}"}) for i in range(60))
    sites.import_documents(web.store, [doc.model_copy(update={"zones": doc.zones + zones,  # type: ignore[attr-defined]
                                                              "conduits": doc.conduits + conduits})],
                           principal=local_principal(name="setup"), force=True)
    n_zones, n_conduits = len(doc.zones) + 60, len(doc.conduits) + 60
    login(web, "vic")
    first = web.get(f"/sites/{SITE}").text
    assert f"Zones ({n_zones})" in first and f"1–50 of {n_zones}" in _pager(first, "Zone pages")
    assert f"1–50 of {n_conduits}" in _pager(first, "Conduit pages")
    assert "zones=50&amp;conduits=0&amp;findings=0" in _pager(first, "Zone pages")
    total = int(re.search(r"Segmentation check: (\d+) open findings", first).group(1))  # type: ignore[union-attr]
    shown = first.count('<tr><td><span class="sev sev-')
    assert shown == min(total, 100)
    # every zone stays a link in the diagram, not only those of the page shown
    assert f'/sites/{SITE}/zones/bulk-z059' in first
    second = web.get(f"/sites/{SITE}?zones=50&conduits=50").text
    assert f"51–{n_zones} of {n_zones}" in _pager(second, "Zone pages")
    assert second.count('href="/sites/rheinfeld-os/zones/bulk-z0') >= 10
    assert total > 100, "60 copies of a zone and of a conduit give the check more than a page of findings"
    rest = web.get(f"/sites/{SITE}?findings=100").text
    assert rest.count('<tr><td><span class="sev sev-') == total - 100
    assert f"101–{total} of {total}" in _pager(rest, "Check finding pages")
