"""Evidence files: present, inside the site folder, and unchanged since recorded."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from zonewarden.domain.requirements import EvidenceRef
from zonewarden.domain.site import SiteDocument
from zonewarden.errors import InputError
from zonewarden.io.evidence_files import (
    check_evidence_file,
    evidence_problems,
    resolve_evidence_path,
    sha256_of,
)


def ev(path: str, digest: str) -> EvidenceRef:
    return EvidenceRef(file=path, sha256=digest)


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    d = tmp_path / "site"
    (d / "evidence").mkdir(parents=True)
    (d / "evidence" / "pentest.pdf").write_bytes(b"%PDF-1.7 report")
    (tmp_path / "secret.txt").write_text("not yours")
    return d


def test_sha256_matches_hashlib(site_dir: Path) -> None:
    assert sha256_of(site_dir / "evidence" / "pentest.pdf") == hashlib.sha256(b"%PDF-1.7 report").hexdigest()


def test_good_file_passes(site_dir: Path) -> None:
    good = hashlib.sha256(b"%PDF-1.7 report").hexdigest()
    assert check_evidence_file(site_dir, ev("evidence/pentest.pdf", good)) is None
    assert check_evidence_file(site_dir, EvidenceRef(document="SOP-1")) is None


def test_changed_file_is_reported_with_both_hashes(site_dir: Path) -> None:
    msg = check_evidence_file(site_dir, ev("evidence/pentest.pdf", "0" * 64))
    assert msg is not None and "changed since it was recorded" in msg and "0" * 64 in msg


def test_missing_file(site_dir: Path) -> None:
    msg = check_evidence_file(site_dir, ev("evidence/nope.pdf", "0" * 64))
    assert msg is not None and "not found" in msg


@pytest.mark.parametrize("path", ["../secret.txt", "evidence/../../secret.txt", "/etc/passwd", "C:\\x\\y.pdf"])
def test_paths_outside_the_site_folder_are_refused(site_dir: Path, path: str) -> None:
    with pytest.raises(InputError):
        resolve_evidence_path(site_dir, path)
    msg = check_evidence_file(site_dir, ev(path, "0" * 64))
    assert msg is not None and ("outside the site folder" in msg or "relative" in msg)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_out_of_the_folder_is_refused(site_dir: Path) -> None:
    (site_dir / "evidence" / "link.txt").symlink_to(site_dir.parent / "secret.txt")
    msg = check_evidence_file(site_dir, ev("evidence/link.txt", sha256_of(site_dir.parent / "secret.txt")))
    assert msg is not None and "outside the site folder" in msg


def test_document_problems_carry_field_paths(site_dir: Path) -> None:
    good = hashlib.sha256(b"%PDF-1.7 report").hexdigest()
    data: dict[str, Any] = {
        "site": {"id": "s1", "name": "Plant"},
        "zones": [{"id": "cell", "name": "Cell", "kind": "control", "purdue_level": 1}],
        "requirements": [
            {"target": "cell", "requirement": "SR 1.1", "status": "implemented",
             "evidence": [{"file": "evidence/pentest.pdf", "sha256": good}, {"file": "evidence/gone.pdf", "sha256": good}]},
        ],
    }
    doc = SiteDocument.model_validate(data, context={"defer_references": True})
    (p,) = evidence_problems(doc, site_dir)
    assert p.path == ("requirements", 0, "evidence", 1, "file")
    assert "gone.pdf" in p.message


def test_hard_link_to_a_file_outside_the_folder_is_refused(site_dir: Path) -> None:
    # Issue 17.7: symbolic links were refused, a hard link to the same file was accepted.
    os.link(site_dir.parent / "secret.txt", site_dir / "evidence" / "innocent.txt")
    digest = hashlib.sha256(b"not yours").hexdigest()
    message = check_evidence_file(site_dir, ev("evidence/innocent.txt", digest))
    assert message is not None and "hard link with 2 names, 1 of them outside the site folder" in message
    with pytest.raises(InputError, match="copy the file into the folder"):
        resolve_evidence_path(site_dir, "evidence/innocent.txt")


def test_hard_links_within_the_folder_are_accepted(site_dir: Path) -> None:
    os.link(site_dir / "evidence" / "pentest.pdf", site_dir / "evidence" / "pentest-copy.pdf")
    digest = hashlib.sha256(b"%PDF-1.7 report").hexdigest()
    assert check_evidence_file(site_dir, ev("evidence/pentest-copy.pdf", digest)) is None
