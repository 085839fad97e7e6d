"""Same data and as-of date -> the same bytes, in every format; the manifest hashes every file."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package, render_package, write_package
from zonewarden.evidence.manifest import verify
from zonewarden.services.sites import canonical_json

from .conftest import AS_OF, ROOT


def test_auditor_package_is_byte_identical(example_doc: SiteDocument) -> None:
    one = render_package(build_package(example_doc, "auditor", AS_OF), ["html", "json"])
    two = render_package(build_package(example_doc, "auditor", AS_OF), ["html", "json"])
    assert one == two


def _run_in_process_with_hash_seed(args: list[str], seed: str, cwd: Path) -> bytes:

    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run([sys.executable, "-m", "zonewarden.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, check=False)
    assert done.returncode in (0, 1), done.stderr.decode()
    return done.stdout


def test_outputs_are_byte_identical_across_processes(tmp_path: Path) -> None:
    # Issue 17.11: two runs in one process share the hash seed and every cache, so set or dict
    # order that depends on string hashing cannot show. Separate processes with different
    # PYTHONHASHSEED values can.
    site = str(ROOT / "examples" / "pharma-plant")
    as_of = AS_OF.isoformat()
    commands = {
        "check": ["check", "--file", site, "--format", "json", "--fail-on", "never", "--as-of", as_of],
        "gap": ["gap", "--file", site, "--format", "json", "--as-of", as_of],
        "paths": ["paths", "--file", site, "--from", "enterprise", "--to", "safety", "--format", "json"],
    }
    for name, args in commands.items():
        one = _run_in_process_with_hash_seed(args, "1", tmp_path)
        two = _run_in_process_with_hash_seed(args, "2", tmp_path)
        assert one and one == two, name
    packages = []
    for seed in ("1", "2"):
        out = tmp_path / f"auditor{seed}"
        _run_in_process_with_hash_seed(["report", "--audience", "auditor", "--format", "html", "--format", "json",
                                        "-o", str(out), "--file", site, "--as-of", as_of], seed, tmp_path)
        packages.append({f.name: f.read_bytes() for f in sorted(out.iterdir())})
    assert packages[0] and packages[0] == packages[1]


def test_customer_pdf_is_byte_identical_across_processes(tmp_path: Path) -> None:
    outs = []
    for n in range(2):
        out = tmp_path / f"run{n}"
        subprocess.run(
            [sys.executable, "-m", "zonewarden.cli.main", "report", "--audience", "customer", "--format", "pdf",
             "--format", "json", "-o", str(out), "--file", str(ROOT / "examples" / "pharma-plant"),
             "--as-of", AS_OF.isoformat()],
            check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": str(n + 1)},
        )
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1]
    info = PdfReader(io.BytesIO(outs[0]["evidence-customer.pdf"])).metadata
    assert info is not None and info["/CreationDate"].startswith("D:20261125")
    assert info["/ModDate"].startswith("D:20261125")


def test_manifest_hashes_files_and_input(example_doc: SiteDocument, tmp_path: Path) -> None:
    files = render_package(build_package(example_doc, "customer", AS_OF), ["html", "json"])
    write_package(files, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["input"]["sha256"] == hashlib.sha256(canonical_json(example_doc)).hexdigest()
    assert [f["path"] for f in manifest["files"]] == ["evidence-customer.html", "evidence-customer.json"]
    on_disk = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert verify(on_disk, manifest) == []
    sums = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{f['sha256']}  {f['path']}" for f in manifest["files"]]
    on_disk["evidence-customer.html"] += b" "
    assert verify(on_disk, manifest) == ["evidence-customer.html: SHA-256 differs from the manifest"]


def test_as_of_changes_the_package(example_doc: SiteDocument) -> None:
    import datetime as dt

    a = render_package(build_package(example_doc, "auditor", AS_OF), ["json"])
    b = render_package(build_package(example_doc, "auditor", AS_OF + dt.timedelta(days=400)), ["json"])
    assert a["evidence-auditor.json"] != b["evidence-auditor.json"]
    assert json.loads(a["manifest.json"])["input"] == json.loads(b["manifest.json"])["input"]
