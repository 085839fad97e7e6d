"""The PDF: a title page, a table of contents with page numbers, numbered pages, every section.

Set ZONEWARDEN_PNG_DIR to keep the page images (rendered with Debian's pdftoppm) for a look.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.redaction import Audience
from zonewarden.evidence.sections import sections_for

from .conftest import rendered


@pytest.mark.parametrize("audience", ["auditor", "customer"])
def test_pdf_structure(example_doc: SiteDocument, audience: str) -> None:
    data = rendered(example_doc, audience, ("html", "json", "pdf"), "example")[f"evidence-{audience}.pdf"]
    reader = PdfReader(io.BytesIO(data))
    pages = [p.extract_text() or "" for p in reader.pages]
    n = len(pages)
    assert n > len(sections_for(Audience(audience)))  # title, contents, a page or more per section
    assert example_doc.site.name in pages[0] and "evidence package" in pages[0]
    assert "Page " not in pages[0]  # the title page carries no running header or number
    assert "Contents" in pages[1]
    for i, text in enumerate(pages[2:], start=3):
        assert f"Page {i} of {n}" in text, f"page {i} is not numbered"
    # Each section's entry in the contents ends with its page number, and the section is there.
    sections = sections_for(Audience(audience))
    toc = " ".join(pages[1].split())
    for section in sections:  # (list numbers are markers: not in the extracted text)
        m = re.search(re.escape(section.title) + r"[ .]*?(\d+)\b", toc)
        assert m, f"{section.title} missing from the contents"
        page = int(m.group(1))
        assert section.title in " ".join(pages[page - 1].split()), f"{section.title} not on page {page}"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
@pytest.mark.parametrize("audience", ["auditor", "customer"])
def test_pages_render_to_png(example_doc: SiteDocument, audience: str, tmp_path: Path) -> None:
    data = rendered(example_doc, audience, ("html", "json", "pdf"), "example")[f"evidence-{audience}.pdf"]
    out = Path(os.environ.get("ZONEWARDEN_PNG_DIR") or tmp_path) / audience
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / "package.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(out / "page")], check=True, timeout=300)
    images = sorted(out.glob("page-*.png"))
    assert len(images) == len(PdfReader(io.BytesIO(data)).pages)
    assert all(p.stat().st_size > 2000 for p in images)  # not blank
