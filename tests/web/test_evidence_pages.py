"""The evidence page: packages built as background jobs (progress, a failed attempt's error, the
download with its SHA-256), the issued packages with their hashes, who may see what."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import ORIGIN, PW, SITE

from zonewarden.errors import InputError
from zonewarden.services import identity, jobs, package_files


@pytest.fixture(autouse=True)
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "packages"
    monkeypatch.setenv("ZONEWARDEN_PACKAGES_DIR", str(folder))
    return folder


def _build(web: TestClient, token: str, **form: object) -> int:
    r = web.post(f"/sites/{SITE}/evidence", data={"csrf": token, **form}, headers={"Origin": ORIGIN})
    assert r.status_code == 303, r.text
    found = re.fullmatch(rf"/sites/{SITE}/evidence/jobs/(\d+)", r.headers["location"])
    assert found, r.headers["location"]
    job_id = int(found.group(1))
    store = web.store  # type: ignore[attr-defined]
    if store.dialect == "postgresql":  # no worker in the test: run the attempt as the worker would
        jobs.run_job(store, job_id)
    return job_id


def test_the_auditor_builds_a_package_in_the_background_and_downloads_it(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    token = login(web, "quinn")
    page = web.get(f"/sites/{SITE}/evidence")
    assert page.status_code == 200 and 'value="auditor"' in page.text and 'name="issue"' not in page.text
    job_id = _build(web, token, audience="auditor", formats=["json", "html"])
    r = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}")
    assert r.status_code == 200 and 'data-state="succeeded"' in r.text and "hx-trigger" not in r.text
    shown = dict(re.findall(r'/files/([^"]+)" download>[^<]+</a></td><td><code class="token sha256">([0-9a-f]{64})',
                            r.text))
    assert set(shown) >= {"evidence-auditor.json", "evidence-auditor.html", "manifest.json", "SHA256SUMS"}
    record = jobs.get_job(web.store, job_id, principal=identity.authenticate_password(  # type: ignore[attr-defined]
        web.store, "quinn", PW["quinn"]))  # type: ignore[attr-defined]
    assert record.result is not None and record.result["files"] == shown
    assert record.progress is None or record.progress["stage"] == "write"
    f = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}/files/evidence-auditor.html")
    assert f.status_code == 200 and hashlib.sha256(f.content).hexdigest() == shown["evidence-auditor.html"]
    assert f.headers["content-disposition"] == 'attachment; filename="evidence-auditor.html"'
    assert f.headers["x-content-type-options"] == "nosniff"
    assert f.headers["content-security-policy"].startswith("sandbox;")
    # Only the recorded names are served; a path is never followed.
    assert web.get(f"/sites/{SITE}/evidence/jobs/{job_id}/files/..%2F..%2Fweb.db").status_code == 404
    assert web.get(f"/sites/{SITE}/evidence/jobs/{job_id}/files/other.txt").status_code == 404
    listing = web.get(f"/sites/{SITE}/evidence")
    assert f"build {job_id}</a>" in listing.text
    # The polling fragment (htmx) is the section alone.
    frag = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}", headers={"HX-Request": "true"})
    assert frag.text.lstrip().startswith('<section id="evidence-job"')


def test_a_running_build_polls_and_shows_its_progress(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from zonewarden.store.job_tables import jobs as table

    token = login(web, "quinn")
    store = web.store  # type: ignore[attr-defined]
    quinn = identity.authenticate_password(store, "quinn", PW["quinn"])
    job_id = jobs.enqueue(store, "report.build", {"site_id": SITE, "audience": "auditor"}, principal=quinn)
    page = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}")
    assert 'data-state="queued"' in page.text and 'hx-trigger="every 2s"' in page.text
    with store.transaction() as conn:
        conn.execute(update(table).where(table.c.id == job_id).values(
            state="running", attempts=1, progress={"stage": "write", "done": 2, "total": 5, "at": "x"}))
    frag = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}", headers={"HX-Request": "true"})
    assert '<progress id="ej-progress" max="5" value="2">' in frag.text and "write: 2 of 5" in frag.text
    assert token


def test_a_failed_attempt_shows_its_error_and_the_retry(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "quinn")
    store = web.store  # type: ignore[attr-defined]
    quinn = identity.authenticate_password(store, "quinn", PW["quinn"])
    job_id = jobs.enqueue(store, "report.build", {"site_id": SITE, "audience": "auditor", "as_of": "31.12.2026"},
                          principal=quinn)
    first = jobs.run_job(store, job_id)
    assert first.state == "retrying"
    r = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}")
    assert 'data-state="retrying"' in r.text and "tried again after" in r.text and "31.12.2026" in r.text
    assert 'hx-trigger="every 2s"' in r.text
    jobs.run_job(store, job_id, now=first.run_after)
    r = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}")
    assert 'data-state="failed"' in r.text and "failed after 2 attempts" in r.text and "hx-trigger" not in r.text


def test_issued_packages_are_listed_with_their_hashes_and_served_while_on_disk(  # type: ignore[no-untyped-def]
        web: TestClient, login, packages: Path) -> None:
    token = login(web, "eve")
    page = web.get(f"/sites/{SITE}/evidence")
    assert 'name="issue"' in page.text and "No package of this site has been issued." in page.text
    refused = web.post(f"/sites/{SITE}/evidence", data={"csrf": token, "audience": "customer", "formats": ["json"],
                                                       "issue": "1"}, headers={"Origin": ORIGIN})
    assert refused.status_code == 422 and "agreement" in refused.text
    job_id = _build(web, token, audience="auditor", formats=["json"], issue="1")
    done = web.get(f"/sites/{SITE}/evidence/jobs/{job_id}")
    assert f"ZW-{SITE}-AUD version 1" in done.text
    listing = web.get(f"/sites/{SITE}/evidence").text
    row = listing[listing.index('data-version="auditor-1"'):]
    row = row[:row.index("</tr>")]
    assert f"ZW-{SITE}-AUD" in row and "<td>eve</td>" in row and "draft" in row
    digest = re.search(r'evidence-auditor\.json</a>\s*<br><code class="token sha256">([0-9a-f]{64})', row)
    assert digest, row
    url = f"/sites/{SITE}/evidence/issued/auditor/1/files/evidence-auditor.json"
    got = web.get(url)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == digest.group(1)
    # The auditor (an approver role) sees it too; a changed file is refused, a deleted one is gone.
    web.cookies.clear()
    login(web, "quinn")
    assert 'data-version="auditor-1"' in web.get(f"/sites/{SITE}/evidence").text
    written = next(packages.rglob("evidence-auditor.json"))
    written.write_bytes(b"{}")
    changed = web.get(url)
    assert changed.status_code == 409 and "changed after it was written" in changed.text
    written.unlink()
    assert web.get(url).status_code == 404
    assert "(no longer on disk)" in web.get(f"/sites/{SITE}/evidence").text


def test_who_may_build_and_see_what(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    store = web.store  # type: ignore[attr-defined]
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    identity.add_user(store, admin, "cora", "Cora Customer", "customer's long pass")
    identity.grant_role(store, admin, "cora", "customer", SITE)
    token = login(web, "quinn")
    quinn_job = _build(web, token, audience="auditor", formats=["json"])
    web.cookies.clear()
    # A customer sees the page with the customer package only, and nobody else's build.
    token = login(web, "cora", "customer's long pass")
    page = web.get(f"/sites/{SITE}/evidence")
    assert page.status_code == 200 and 'value="customer"' in page.text and 'value="auditor"' not in page.text
    assert web.get(f"/sites/{SITE}/evidence/jobs/{quinn_job}").status_code == 404
    denied = web.post(f"/sites/{SITE}/evidence", data={"csrf": token, "audience": "auditor", "formats": ["json"]},
                      headers={"Origin": ORIGIN})
    assert denied.status_code == 403
    own = _build(web, token, audience="customer", formats=["json"])
    assert 'data-state="succeeded"' in web.get(f"/sites/{SITE}/evidence/jobs/{own}").text
    # No CSRF token, or another origin: refused before anything is queued.
    before = len(jobs.list_jobs(store, admin, name="report.build"))
    assert web.post(f"/sites/{SITE}/evidence", data={"audience": "customer", "formats": ["json"]},
                    headers={"Origin": ORIGIN}).status_code == 403
    assert web.post(f"/sites/{SITE}/evidence", data={"csrf": token, "audience": "customer", "formats": ["json"]},
                    headers={"Origin": "http://evil.example"}).status_code == 403
    bad = web.post(f"/sites/{SITE}/evidence", data={"csrf": token, "audience": "customer", "formats": ["exe"]},
                   headers={"Origin": ORIGIN})
    assert bad.status_code == 422 and "formats" in bad.text
    assert len(jobs.list_jobs(store, admin, name="report.build")) == before
    # A stranger to the site gets 404 for everything.
    web.cookies.clear()
    token = login(web, "sam")
    assert web.get(f"/sites/{SITE}/evidence").status_code == 404
    assert web.post(f"/sites/{SITE}/evidence", data={"csrf": token, "audience": "auditor", "formats": ["json"]},
                    headers={"Origin": ORIGIN}).status_code == 404


@pytest.mark.parametrize("folder, name", [("../x", "a.json"), ("/etc", "passwd"), ("web/a", "../b"),
                                          ("web/a", "a/b"), ("a\\..\\b", "c"), ("", "a")])
def test_package_paths_stay_inside_the_packages_folder(tmp_path: Path, folder: str, name: str) -> None:
    with pytest.raises(InputError):
        package_files.confined(tmp_path, folder, name)


def test_a_plain_package_path_is_inside(tmp_path: Path) -> None:
    assert package_files.confined(tmp_path, "web/x-1", "SHA256SUMS") == (tmp_path / "web" / "x-1" / "SHA256SUMS").resolve()


# --- evidence files on the requirement matrix ----------------------------------------------------


def _upload_form(html: str, requirement: str) -> dict[str, str]:
    row = html[html.index(f'data-requirement="{requirement}"'):]
    row = row[:row.index("</tr>")]
    form = row[row.index('class="evidence-form"'):]
    return {"revision": re.search(r'name="revision" value="([^"]+)"', form).group(1),  # type: ignore[union-attr]
            "csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1)}  # type: ignore[union-attr]


def test_an_engineer_attaches_an_evidence_file_to_a_status(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services import sites

    login(web, "eve")
    url = f"/sites/{SITE}/zones/ops/requirements/SR 2.8/evidence"
    page = web.get(f"/sites/{SITE}/zones/ops").text
    early = web.post(f"/sites/{SITE}/zones/ops/requirements/SR 2.7/evidence", data=_status_form_any(page),
                     files={"file": ("x.txt", b"x")}, headers={"Origin": ORIGIN})
    assert early.status_code == 422 and "record a status first" in early.text
    form = _upload_form(web.get(f"/sites/{SITE}/zones/ops").text, "SR 2.8")
    body = b"%PDF-1.4 penetration test report\n" * 100
    digest = hashlib.sha256(body).hexdigest()
    name = '../../<img src=x onerror=alert(1)>.pdf'
    r = web.post(url, data=form, files={"file": (name, body, "application/pdf")}, headers={"Origin": ORIGIN})
    assert r.status_code == 303 and r.headers["location"].endswith("/zones/ops#req-SR%202.8")
    page = web.get(f"/sites/{SITE}/zones/ops").text
    row = page[page.index('data-requirement="SR 2.8"'):]
    row = row[:row.index("</tr>")]
    assert "uploaded as &lt;img src=x onerror=alert(1)&gt;.pdf" in row and "<img" not in row  # the name is text
    assert f'<code class="token sha256" title="SHA-256">{digest}</code>' in row
    link = re.search(r'href="([^"]+evidence-file\?path=[^"]+)"', row)
    assert link, row
    got = web.get(link.group(1).replace("&amp;", "&"))
    assert got.status_code == 200 and got.content == body
    assert got.headers["content-disposition"].startswith('attachment; filename="_img_src_x_onerror_alert_1__.pdf"')
    assert got.headers["x-content-type-options"] == "nosniff" and got.headers["content-security-policy"].startswith("sandbox")
    # Kept with the site by content hash (the uploaded name is no path), the status names it with its hash.
    store = web.store  # type: ignore[attr-defined]
    assert sites.evidence_of(store, SITE)[f"evidence/{digest}.pdf"] == body
    (status,) = [s for s in sites.load_document(store, SITE).requirements
                 if s.target == "ops" and s.requirement == "SR 2.8"]
    assert [(e.file, e.sha256) for e in status.evidence][-1] == (f"evidence/{digest}.pdf", digest)
    from sqlalchemy import select

    from zonewarden.store.tables import audit_events

    with store.read() as conn:
        last = conn.execute(select(audit_events).order_by(audit_events.c.seq.desc()).limit(1)).first()
    assert last.action == "requirement.set-status" and last.actor == "eve" and digest in (last.reason or "")
    # Only stored files are served; a path is a key, never a file name on the server.
    for path in ("../../etc/passwd", "evidence/nothing.pdf"):
        assert web.get(f"/sites/{SITE}/evidence-file", params={"path": path}).status_code == 404


def _status_form_any(html: str) -> dict[str, str]:
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', html).group(1)}  # type: ignore[union-attr]


def test_an_upload_over_the_limit_is_refused_with_413(web: TestClient, login, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.services import evidence_uploads
    from zonewarden.web import pages_uploads

    login(web, "eve")
    form = _upload_form(web.get(f"/sites/{SITE}/zones/ops").text, "SR 2.8")
    url = f"/sites/{SITE}/zones/ops/requirements/SR 2.8/evidence"
    monkeypatch.setattr(evidence_uploads, "MAX_BYTES", 1000)
    r = web.post(url, data=form, files={"file": ("big.bin", b"x" * 1001)}, headers={"Origin": ORIGIN})
    assert r.status_code == 413 and "over the limit of 1000 bytes" in r.text
    monkeypatch.setattr(pages_uploads, "UPLOAD_LIMIT", 4000)  # the server's body limit of this path
    r = web.post(url, data=form, files={"file": ("big.bin", b"x" * 8000)}, headers={"Origin": ORIGIN})
    assert r.status_code == 413
    assert web.post(url, data=form, files={"file": ("ok.txt", b"x" * 1000)}, headers={"Origin": ORIGIN}).status_code == 303
    assert evidence_uploads.MAX_BYTES == 1000 and pages_uploads.UPLOAD_LIMIT == 4000


def test_who_may_attach_evidence(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    login(web, "eve")
    form = _upload_form(web.get(f"/sites/{SITE}/zones/ops").text, "SR 2.8")
    url = f"/sites/{SITE}/zones/ops/requirements/SR 2.8/evidence"
    files = {"file": ("a.txt", b"abc")}
    assert web.post(url, data={"revision": form["revision"]}, files=files, headers={"Origin": ORIGIN}).status_code == 403
    assert web.post(url, data=form, files=files, headers={"Origin": "http://evil.example"}).status_code == 403
    web.cookies.clear()
    token = login(web, "vic")
    assert 'class="evidence-form"' not in web.get(f"/sites/{SITE}/zones/ops").text
    r = web.post(url, data={"csrf": token, "revision": form["revision"]}, files=files, headers={"Origin": ORIGIN})
    assert r.status_code == 403
    web.cookies.clear()
    token = login(web, "sam")
    r = web.post(url, data={"csrf": token}, files=files, headers={"Origin": ORIGIN})
    assert r.status_code == 404
    assert web.get(f"/sites/{SITE}/evidence-file", params={"path": "evidence/x"}).status_code == 404


# --- the paths explorer ------------------------------------------------------------------------


def test_the_paths_explorer_shows_each_hops_protocols_and_highlights_a_path(web: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from zonewarden.services import sites
    from zonewarden.services.queries import architecture

    login(web, "vic")
    empty = web.get(f"/sites/{SITE}/paths")
    assert empty.status_code == 200 and 'name="source"' in empty.text and "data-path=" not in empty.text
    r = web.get(f"/sites/{SITE}/paths", params={"source": "ext", "target": "qc-lab"})
    assert r.status_code == 200
    local = identity.authenticate_password(web.store, "vic", PW["vic"])  # type: ignore[attr-defined]
    expected = architecture.paths(web.store, principal=local, site_id=SITE, source="ext",  # type: ignore[attr-defined]
                                  target="qc-lab", limit=200).report.paths
    assert r.text.count("<tr data-path=") == len(expected) > 1
    first = r.text[r.text.index('data-path="1"'):]
    first = first[:first.index("</tr>")]
    p = expected[0]
    for i, conduit in enumerate(p.conduits):
        shown = ", ".join(p.hop_protocols[i])
        assert (f'>{conduit}</a>: <span class="hop-protocols">{shown}</span>' if shown else
                f'>{conduit}</a>: <span class="hop-protocols bad">no flow opens this way</span>') in first
    assert f'<td class="end-to-end">{", ".join(p.end_to_end_protocols) or "none"}</td>' in first
    if shutil.which("dot"):
        assert r.text.count("on-path") == len(p.zones) + len(p.conduits)
        second = web.get(f"/sites/{SITE}/paths", params={"source": "ext", "target": "qc-lab", "path": 2})
        q = expected[1]
        assert 'data-path="2" class="chosen"' in second.text
        marked = set(re.findall(r'id="((?:zone|conduit)-[^"]+)" class="[^"]*on-path', second.text))
        assert marked == {f"zone-{z}" for z in q.zones} | {f"conduit-{c}" for c in q.conduits}
    # An asset stands for its zone; wrong input says what to fix.
    doc = sites.load_document(web.store, SITE)  # type: ignore[attr-defined]
    asset = next(a for a in doc.assets if a.zone == "qc-lab")
    by_asset = web.get(f"/sites/{SITE}/paths", params={"source": "ext", "target_asset": asset.id})
    assert by_asset.text.count("<tr data-path=") == len(expected)
    bad = web.get(f"/sites/{SITE}/paths", params={"source": "ext", "target_asset": "no-such-asset"})
    assert bad.status_code == 422 and "no asset" in bad.text
    nowhere = web.get(f"/sites/{SITE}/paths", params={"source": "ext", "target": "nowhere"})
    assert nowhere.status_code == 422 and "nowhere" in nowhere.text
    web.cookies.clear()
    login(web, "sam")
    assert web.get(f"/sites/{SITE}/paths", params={"source": "ext", "target": "qc-lab"}).status_code == 404
