"""Site import over HTTP: an exported site folder uploaded as a zip is planned (dry run) and
applied with the revision rules of import safety; a stale copy does not silently remove work
recorded since (409 naming it, unless pruned); If-Match over an existing site; unsafe zips and
invalid files are 422 naming the file inside the upload."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from zonewarden.io.sitefile import write_site
from zonewarden.services import identity, import_safety

from .test_api import EXAMPLE, PW, SITE, api, h  # noqa: F401  (the fixture)

URL = "/api/v1/sites/import"


def _etag(client: TestClient) -> str:
    return client.get(f"/api/v1/sites/{SITE}", headers=h(client, "vic")).headers["ETag"]


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder.parent).as_posix())
    return buf.getvalue()


def _export(api: TestClient, tmp_path: Path, name: str) -> Path:  # noqa: F811
    store = api.app.state.store  # type: ignore[attr-defined]
    admin = identity.authenticate_password(store, "ada", PW["ada"])
    bundle = import_safety.export_site(store, SITE, principal=admin)
    out = tmp_path / name / SITE
    write_site(bundle.doc, out, bundle.evidence, bundle.stamp)
    shutil.copytree(EXAMPLE / "evidence", out / "evidence", dirs_exist_ok=True)  # the fixture stored none
    return out


def test_dry_run_then_apply_and_a_stale_copy_is_refused(api: TestClient, tmp_path: Path) -> None:  # noqa: F811
    folder = _export(api, tmp_path, "old")
    zones = folder / "zones.yaml"
    if zones.exists():
        zones.write_text(zones.read_text().replace("name: Site operations", "name: Site operations (renamed)", 1))
    body = _zip(folder)
    headers = {"Content-Type": "application/zip"}

    plan = api.post(f"{URL}?dry_run=true", content=body, headers=h(api, "vic", **headers))
    assert plan.status_code == 200, plan.text
    (p,) = plan.json()["plans"]
    assert p["site"] == SITE and p["would_import"] and p["stamped"]

    assert api.post(URL, content=body, headers=h(api, "vic", **headers, **{"If-Match": _etag(api)})).status_code == 403
    assert api.post(URL, content=body, headers=h(api, "eve", **headers)).status_code == 428

    # Meanwhile someone removes... records a requirement status through the API.
    r = api.put(f"/api/v1/sites/{SITE}/requirements/ops/SR 1.1", json={"status": "planned", "target_date": "2027-01-31"},
                headers=h(api, "eve", **{"If-Match": _etag(api)}))
    assert r.status_code == 200, r.text
    refused = api.post(URL, content=body, headers=h(api, "eve", **headers, **{"If-Match": _etag(api)}))
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "SR 1.1" in refused.json()["detail"] and refused.json()["plans"][0]["conflicts"]
    stale = api.post(URL, content=body, headers=h(api, "eve", **headers, **{"If-Match": '"0"'}))
    assert stale.status_code == 412

    fresh = _export(api, tmp_path, "new")
    applied = api.post(URL, content=_zip(fresh), headers=h(api, "eve", **headers, **{"If-Match": _etag(api)}))
    assert applied.status_code == 200 and applied.json()["unchanged"], applied.text


def test_unsafe_or_invalid_uploads_are_422(api: TestClient) -> None:  # noqa: F811
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.yaml", "x: 1")
    r = api.post(URL, content=buf.getvalue(), headers=h(api, "eve", **{"Content-Type": "application/zip"}))
    assert r.status_code == 422 and "outside the site folder" in r.json()["detail"]
    r = api.post(URL, content=b"not a zip", headers=h(api, "eve", **{"Content-Type": "application/zip"}))
    assert r.status_code == 422 and "not a zip" in r.json()["detail"]
    r = api.post(URL, content=b"zonewarden: 1\nsite: {id: x}\n", headers=h(api, "eve", **{"Content-Type": "application/yaml"}))
    assert r.status_code == 422 and "zw-upload" not in r.text and r.json()["errors"], r.text
    r = api.post(URL, content=b"{}", headers=h(api, "eve", **{"Content-Type": "application/json"}))
    assert r.status_code == 422 and "application/zip" in r.json()["detail"]
