"""Document control (issue 15.1): id, version per issue for the same audience and site, status,
author/reviewer/approver from the site's governance, distribution, classification marking and
a revision history built from the site diff since the previous issued version."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.domain.site import SiteDocument
from zonewarden.errors import InputError, PermissionDenied
from zonewarden.evidence.builder import build_package
from zonewarden.services import package_issues
from zonewarden.services.principal import Principal, local_principal
from zonewarden.services.queries import report as queries
from zonewarden.store.db import open_store

from .conftest import AS_OF, ROOT


def _control(package: object) -> dict:
    return next(s.data for s in package.sections if s.id == "document-control")  # type: ignore[attr-defined]


def test_a_package_built_from_a_file_is_an_uncontrolled_draft(example_doc: SiteDocument) -> None:
    auditor = _control(build_package(example_doc, "auditor", AS_OF))
    assert auditor["version"] == "not issued" and auditor["uncontrolled"] and auditor["status"] == "draft"
    assert auditor["classification"] == "Confidential"
    assert auditor["document_id"] == "ZW-rheinfeld-os-AUD"
    duties = {d["duty"]: d for d in auditor["duties"]}
    people = {p.name for p in example_doc.people}
    assert {"Author", "Reviewer", "Approver"} == set(duties)
    assert all(any(n in str(d["who"]) for n in people) for d in duties.values())  # named for the auditor
    customer = _control(build_package(example_doc, "customer", AS_OF))
    assert customer["classification"].startswith("Not issued \u2014 share only with the customer")
    # the customer package never names people
    assert not any(n in json.dumps(customer, default=str) for n in people)


def test_issue_versions_approval_marking_and_revision_history(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(ROOT / "examples" / "pharma-plant"), "--db", db]).exit_code == 0
    store = open_store(db)
    me = local_principal()
    first = queries.report(store, principal=me, site_id=None, audience="auditor", formats=["html"],
                           as_of=AS_OF, issue=True)
    c1 = _control(first.package)
    assert (c1["version"], c1["status"]) == (1, "draft")
    assert c1["history"][-1]["changes"] == ["first issue"]
    # customer versions count on their own, and need a recipient and an agreement
    with pytest.raises(InputError, match="--recipient and --agreement"):
        queries.report(store, principal=me, site_id=None, audience="customer", formats=["html"], as_of=AS_OF,
                       issue=True)
    cust = queries.report(store, principal=me, site_id=None, audience="customer", formats=["html", "pdf"],
                          as_of=AS_OF, issue=True, recipient="Acme Pharma", agreement="NDA 2026-031")
    cc = _control(cust.package)
    assert cc["version"] == 1 and cc["classification"] == "Shared with Acme Pharma under NDA 2026-031"
    import io

    from pypdf import PdfReader

    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(cust.files["evidence-customer.pdf"])).pages]
    marked = [p for p in pages if p.strip()]
    assert len(marked) == len(pages) > 3 and all("Shared with Acme Pharma under NDA 2026-031" in " ".join(p.split()) for p in marked)

    # the site changes, a second issue says what changed since version 1
    from zonewarden.services import sites

    doc = sites.load_document(store, "rheinfeld-os")
    data = doc.model_dump(mode="json", exclude_defaults=True)
    data["zones"][0]["description"] = "Changed between the two issues for the revision history."
    sites.import_documents(store, [SiteDocument.model_validate(data)], principal=me)
    second = queries.report(store, principal=me, site_id=None, audience="auditor", formats=["html"],
                            as_of=AS_OF, issue=True)
    c2 = _control(second.package)
    assert c2["version"] == 2
    assert [h["version"] for h in c2["history"]] == [1, 2]
    assert any(line.startswith("zones: 1 changed") and data["zones"][0]["id"] in line
               for line in c2["history"][-1]["changes"])

    # approving: only the newest, not by its issuer (with accounts), then rendered again
    with pytest.raises(Exception, match="superseded by version 2"):
        package_issues.approve(store, principal=me, site_id="rheinfeld-os", audience="auditor", version=1)
    issuer_elsewhere = Principal(user_id=me.user_id, method="token", roles={"rheinfeld-os": frozenset({"quality"})})
    with pytest.raises(PermissionDenied, match="someone else has to approve"):
        _approve_as_issuer(store, issuer_elsewhere)
    package_issues.approve(store, principal=me, site_id="rheinfeld-os", audience="auditor", version=2)
    again = queries.report(store, principal=me, site_id=None, audience="auditor", formats=["html"], version=2)
    c3 = _control(again.package)
    assert (c3["version"], c3["status"]) == (2, "approved") and c3["approved_on"]
    html = again.files["evidence-auditor.html"].decode()
    assert "ZW-rheinfeld-os-AUD version 2" in html and "Confidential" in html
    # a viewer may not issue (report.issue is in the policy table)
    viewer = Principal(user_id="vic", method="token", roles={"rheinfeld-os": frozenset({"viewer"})})
    with pytest.raises(PermissionDenied):
        package_issues.issue(store, principal=viewer, site_id="rheinfeld-os", audience="auditor",
                             as_of=dt.date(2026, 11, 25))
    store.close()


def _approve_as_issuer(store: object, principal: Principal) -> None:
    # the signature check comes first with accounts; skip it to reach the segregation rule
    from unittest import mock

    with mock.patch("zonewarden.services.signatures.confirm", lambda s, p, o, g: p), \
            mock.patch("zonewarden.services.signatures.needs_signature", lambda p, o: False):
        package_issues.approve(store, principal=principal, site_id="rheinfeld-os",  # type: ignore[arg-type]
                               audience="auditor", version=2)


def test_an_issue_from_the_cli_records_its_files_and_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`report --issue` records what it wrote, as a background build does: the evidence page lists
    the files with their SHA-256 and serves them when they lie in the packages folder."""
    import hashlib

    from zonewarden.services import package_files

    db = f"sqlite:///{tmp_path / 'zw.db'}"
    monkeypatch.setenv("ZONEWARDEN_PACKAGES_DIR", str(tmp_path / "packages"))
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(ROOT / "examples" / "pharma-plant"), "--db", db]).exit_code == 0
    inside, outside = tmp_path / "packages" / "audit-1", tmp_path / "elsewhere"
    for out in (inside, outside):
        r = runner.invoke(cli, ["report", "--audience", "auditor", "-o", str(out), "--as-of", AS_OF, "--issue",
                                "--db", db])
        assert r.exit_code == 0, r.output
        assert "with their SHA-256" in r.output
    files = package_files.files_of(open_store(db), principal=local_principal(), site_id="rheinfeld-os",
                                   audience="auditor")
    assert sorted(files) == [1, 2]
    for version, folder, out in ((1, "audit-1", inside), (2, str(outside.resolve()), outside)):
        recorded = {f.name: f.sha256 for f in files[version]}
        on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir() if p.is_file()}
        assert recorded == on_disk and {f.folder for f in files[version]} == {folder}
    name = files[1][0].name
    assert package_files.read_checked(tmp_path / "packages", "audit-1", name, files[1][0].sha256)
    with pytest.raises(InputError):  # outside the packages folder: listed, never served
        package_files.read_checked(tmp_path / "packages", files[2][0].folder, name, files[2][0].sha256)
