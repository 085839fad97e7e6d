"""SBOM import and matching by purl/CPE, on SQLite and PostgreSQL (issue 14 item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.services.sbom_helpers import PLANT, advisory, lib, sbom

from zonewarden.errors import InputError, NotFoundError
from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services import audit
from zonewarden.services.principal import local_principal
from zonewarden.services.sbom import import_sbom, list_components
from zonewarden.services.sites import import_documents
from zonewarden.store.sbom_tables import sbom_components, sboms

ME = local_principal()
SITE = "pharma"
PLC = "comp-plc-p1"
OPENSSL = "pkg:generic/openssl@1.1.1k"


def _plant(store) -> None:  # type: ignore[no-untyped-def]
    import_documents(store, [load_site(PLANT)], reason="test", principal=ME)


def _write(tmp_path: Path, doc: object, name: str = "fw.cdx.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return p


def _ingest(store, *docs: bytes) -> None:  # type: ignore[no-untyped-def]
    report = svc.ingest_bytes(store, [(f"doc{i}.json", d) for i, d in enumerate(docs)], strict=False, principal=ME)
    assert all(r.error is None for r in report.results), [r.error for r in report.results]


def _findings(store, asset: str = PLC) -> dict[str, svc.FindingRow]:  # type: ignore[no-untyped-def]
    return {f.tracking_id: f for f in svc.list_findings(store, principal=ME) if f.asset_id == asset}


def _count(store, table) -> int:  # type: ignore[no-untyped-def]
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_import_lists_and_replaces_with_what_changed(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    assert store.engine.dialect.name in ("sqlite", "postgresql")
    site = load_site(PLANT).site.id
    doc = sbom([lib("openssl", "1.1.1k", purl=OPENSSL, supplier="OpenSSL"),
                {**lib("busybox", "1.33.1", cpe="cpe:2.3:a:busybox:busybox:1.33.1:*:*:*:*:*:*:*"),
                 "components": [lib("zlib", "1.2.11", purl="pkg:generic/zlib@1.2.11")]}])
    report = import_sbom(store, site, PLC, _write(tmp_path, doc), principal=ME)
    assert (report.components, report.replaced) == (3, False)
    rows = list_components(store, site, PLC, principal=ME)
    assert [(r["name"], r["version"], r["supplier"]) for r in rows] == [
        ("openssl", "1.1.1k", "OpenSSL"), ("busybox", "1.33.1", None), ("zlib", "1.2.11", None)]
    assert rows[2]["pointer"] == "/components/1/components/0"
    assert rows[1]["cpe"].startswith("cpe:2.3:a:busybox")

    doc2 = sbom([lib("openssl", "3.0.8", purl="pkg:generic/openssl@3.0.8"), lib("curl", "8.0.1", purl="pkg:generic/curl@8.0.1")])
    report = import_sbom(store, site, PLC, _write(tmp_path, doc2, "v2.json"), principal=ME, reason="firmware 3.0")
    assert report.replaced
    assert report.added == ("pkg:generic/curl",)
    assert set(report.removed) == {"busybox", "pkg:generic/zlib"}
    assert report.changed == ("pkg:generic/openssl: 1.1.1k -> 3.0.8",)
    assert _count(store, sbom_components) == 2 and _count(store, sboms) == 1
    with store.read() as conn:
        events = [e for e in audit.events(conn, site_id=site) if e.action == "sbom.import"]
    assert len(events) == 2
    assert events[-1].reason == "firmware 3.0"
    assert events[-1].after["changed"] == ["pkg:generic/openssl: 1.1.1k -> 3.0.8"]
    assert events[-1].before["components"] == 3


def test_unknown_asset_and_bad_files_store_nothing(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    site = load_site(PLANT).site.id
    with pytest.raises(NotFoundError, match="no asset 'nope'"):
        import_sbom(store, site, "nope", _write(tmp_path, sbom([lib("a", "1")])), principal=ME)
    cases = {
        "not json": ('{"bomFormat": "CycloneDX",\n  "specVersion": ', "not json.json:2:"),
        "not cyclonedx": ({"bomFormat": "SPDX", "specVersion": "1.5"}, "/bomFormat"),
        "old version": ({"bomFormat": "CycloneDX", "specVersion": "1.3"}, "/specVersion"),
        "schema": (sbom([{"type": "library", "name": "x", "version": 1}]), "/components/0/version"),
        "purl": (sbom([lib("x", "1", purl="pkg:")]), "/components/0/purl"),
        "cpe": (sbom([lib("x", "1", cpe="cpe:2.3:a:only")]), "/components/0/cpe"),
    }
    for name, (doc, where) in cases.items():
        with pytest.raises(InputError) as err:
            import_sbom(store, site, PLC, _write(tmp_path, doc, f"{name}.json"), principal=ME)
        assert where in str(err.value), (name, str(err.value))
        assert f"{name}.json" in str(err.value)
    with pytest.raises(InputError, match="over the limit"):
        import_sbom(store, site, PLC, _write(tmp_path, sbom([lib("a", "1")]), "big.json"), principal=ME, limit=100)
    assert _count(store, sbom_components) == 0 and _count(store, sboms) == 0


@pytest.mark.parametrize("spec", ["1.4", "1.6"])
def test_every_supported_spec_version_reads(store, tmp_path: Path, spec: str) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    site = load_site(PLANT).site.id
    report = import_sbom(store, site, PLC, _write(tmp_path, sbom([lib("openssl", "1.1.1k", purl=OPENSSL)], spec=spec)), principal=ME)
    assert report.components == 1


def test_components_match_by_purl_and_cpe_with_the_component_in_the_explanation(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    site = load_site(PLANT).site.id
    _ingest(
        store,
        advisory("ZW-T-PURL", [{"vendor": "OpenSSL", "product": "OpenSSL", "range": "vers:generic/>=1.1.1|<1.1.1t", "id": "P1",
                                "helper": {"purl": "pkg:generic/openssl"}}]),
        advisory("ZW-T-CPE", [{"vendor": "BusyBox", "product": "BusyBox", "range": "vers:generic/<1.36.0", "id": "P1",
                               "helper": {"cpe": "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*"}}], cve="CVE-2022-48174"),
        advisory("ZW-T-FIXED", [{"vendor": "zlib", "product": "zlib", "range": "vers:generic/<1.2.10", "id": "P1",
                                 "helper": {"purl": "pkg:generic/zlib"}}], cve="CVE-2016-9840"),
        advisory("ZW-T-OTHER", [{"vendor": "curl", "product": "curl", "range": "vers:generic/<9", "id": "P1",
                                 "helper": {"purl": "pkg:generic/curl"}}], cve="CVE-2023-27533"),
    )
    before = _findings(store)
    assert "ZW-T-PURL" not in before  # no SBOM yet: the PLC's names match none of them
    doc = sbom([lib("openssl", "1.1.1k", purl=OPENSSL),
                lib("busybox", "1.33.1", cpe="cpe:2.3:a:busybox:busybox:1.33.1:*:*:*:*:*:*:*"),
                lib("zlib", "1.2.11", purl="pkg:generic/zlib@1.2.11")])
    report = import_sbom(store, site, PLC, _write(tmp_path, doc), principal=ME)
    assert report.findings["created"] >= 3
    got = _findings(store)
    assert got["ZW-T-PURL"].status == "affected"
    assert got["ZW-T-CPE"].status == "affected"
    assert got["ZW-T-FIXED"].status == "not-affected"  # 1.2.11 is outside < 1.2.10
    assert "ZW-T-OTHER" not in got  # no curl in the SBOM
    purl = got["ZW-T-PURL"]
    assert "openssl 1.1.1k (pkg:generic/openssl@1.1.1k)" in purl.message
    (m,) = purl.matches
    assert m["matched_on"] == "purl" and m["matched_value"].startswith("SBOM component #0 openssl")
    assert "/components/0" in m["matched_value"]
    assert got["ZW-T-CPE"].matches[0]["matched_on"] == "cpe"

    # A new SBOM without openssl: that finding becomes inactive.
    import_sbom(store, site, PLC, _write(tmp_path, sbom([lib("openssl", "3.0.9", purl="pkg:generic/openssl@3.0.9")]), "v2.json"),
                principal=ME)
    now = _findings(store)
    assert now["ZW-T-PURL"].status == "not-affected"
    assert "ZW-T-CPE" not in now or not now["ZW-T-CPE"].active


def test_real_bsi_advisory_matches_components_by_its_cpe_2_2_uris(store, tmp_path: Path, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    # CISA's ICS feed has no purl or CPE at all (see docs/advisory-matching.md); the OASIS
    # examples do: BSI's advisory names each converter version by a CPE 2.2 URI.
    _plant(store)
    site = load_site(PLANT).site.id
    doc = (shared_data / "csaf" / "oasis" / "csaf_2.0" / "examples" / "csaf" / "bsi-2022-0001.json").read_bytes()
    _ingest(store, doc)
    cpe = "cpe:2.3:a:csaf-tools:cvrf-csaf-converter:{}:*:*:*:*:*:*:*"
    import_sbom(store, site, PLC, _write(tmp_path, sbom([lib("cvrf-csaf-converter", "1.0.0-dev2", cpe=cpe.format("1.0.0-dev2"))])),
                principal=ME)
    import_sbom(store, site, "comp-plc-p2", _write(tmp_path, sbom([lib("converter", "1.0.0-rc2", cpe=cpe.format("1.0.0-rc2"))]), "b.json"),
                principal=ME)
    (tid,) = {f.tracking_id for f in svc.list_findings(store, principal=ME) if f.tracking_id == "BSI-2022-0001"}
    affected, fixed = _findings(store)[tid], _findings(store, "comp-plc-p2")[tid]
    assert affected.status == "affected" and affected.cves == ("CVE-2022-27193",)
    assert "cvrf-csaf-converter 1.0.0-dev2" in affected.message
    assert fixed.status == "fixed"


def test_vex_inside_the_sbom_is_recorded_for_the_asset(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services.vex import list_statements

    _plant(store)
    site = load_site(PLANT).site.id
    doc = sbom([lib("openssl", "1.1.1k", purl=OPENSSL, ref="ossl")], manufacturer="Rockwell Automation", vulnerabilities=[
        {"id": "CVE-2023-0286", "affects": [{"ref": "ossl"}],
         "analysis": {"state": "not_affected", "justification": "code_not_reachable"}}])
    import_sbom(store, site, PLC, _write(tmp_path, doc), principal=ME)
    (row,) = list_statements(store, principal=ME, site_id=site)
    assert (row["asset"], row["state"], row["from_supplier"], row["justification"]) == (PLC, "not_affected", True, "code_not_reachable")
