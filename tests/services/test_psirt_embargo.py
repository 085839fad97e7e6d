"""Embargoed case details never reach a customer package, a site export, a customer-safe export
or a read by a user outside the embargo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import orjson
import pytest

from zonewarden.errors import PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import import_safety, psirt, sites
from zonewarden.services.principal import ANY_SITE, Principal, local_principal
from zonewarden.services.queries.report import report

ROOT = Path(__file__).resolve().parents[2]
CANARY = "EMBARGO-CANARY-7f3a"
REPORTER = "canary-reporter@example.org"


def test_embargoed_details_reach_no_package_export_or_outsider(store) -> None:  # type: ignore[no-untyped-def]
    me = local_principal(name="lead")
    doc = load_site(ROOT / "examples" / "pharma-plant")
    sites.import_documents(store, [doc], principal=me)
    owner = Principal(user_id="ana", method="token", roles={ANY_SITE: frozenset({"psirt-manager"})})
    report_bytes = json.dumps({"reporter": {"contact": REPORTER, "name": "Cora Canary"},
                               "product": "SCALANCE SC646-2C", "version": "V2.2",
                               "title": f"{CANARY} title", "description": f"{CANARY} details"}).encode()
    ref = psirt.intake(store, psirt.parse_report(report_bytes, source="r"), principal=owner).reference
    psirt.acknowledge(store, ref, principal=owner)
    psirt.set_embargo(store, ref, dt.datetime.now(dt.UTC) + dt.timedelta(days=30), principal=owner)

    def leaks(data: bytes) -> bool:
        return CANARY.encode() in data or REPORTER.encode() in data or b"Cora Canary" in data

    customer_pkg = report(store, principal=me, site_id=doc.site.id, audience="customer", formats=["html", "json"])
    assert customer_pkg.files and not any(leaks(b) for b in customer_pkg.files.values())
    auditor_pkg = report(store, principal=me, site_id=doc.site.id, audience="auditor", formats=["json"])
    assert not any(leaks(b) for b in auditor_pkg.files.values())
    bundle = import_safety.export_site(store, doc.site.id, principal=me)
    assert not leaks(orjson.dumps(bundle.doc.model_dump(mode="json")))
    assert not any(leaks(b) for b in bundle.evidence.values())

    analyst = Principal(user_id="bob", method="token", client="api", roles={ANY_SITE: frozenset({"psirt-analyst"})})
    assert not leaks(orjson.dumps(psirt.list_cases(store, principal=analyst)))
    assert not leaks(orjson.dumps(psirt.show_case(store, ref, principal=analyst)))
    assert not leaks(orjson.dumps(psirt.export_cases(store, principal=owner)))  # not published: not for customers
    customer = Principal(user_id="cust", method="token", client="api", roles={doc.site.id: frozenset({"customer"})})
    with pytest.raises(PermissionDenied):
        psirt.list_cases(store, principal=customer)
    # The owner sees it all.
    assert leaks(orjson.dumps(psirt.show_case(store, ref, principal=owner)))
