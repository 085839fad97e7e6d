"""The language check: our words never promise; the user's own words are quoted, not judged."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.builder import build_package, render_package
from zonewarden.evidence.language import LanguageError, check_data, check_text, mark
from zonewarden.evidence.sections import SectionData
from zonewarden.evidence.text import u

from .conftest import AS_OF

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "zonewarden" / "evidence" / "templates"


@pytest.mark.parametrize(
    "text",
    ["We guarantee uptime.", "The plant is fully compliant.", "Fully  secure network", "CERTIFIED zones",
     "guaranteed recovery", "a 100% secure design", "risk-free operation"],
)
def test_forbidden_generated_wording_is_found(text: str) -> None:
    assert check_text(f"<p>{text}</p>")


@pytest.mark.parametrize("text", ["certification body audits", "guarantor", "compliant with SR 1.1",
                                  "no risk scenarios recorded", "securely"])
def test_ordinary_words_pass(text: str) -> None:
    assert check_text(f"<p>{text}</p>") == []


def test_user_text_is_exempt_but_only_inside_its_marks() -> None:
    quoted = "<td>" + mark("vendor says: fully compliant and certified") + "</td>"
    assert check_text(quoted) == []
    assert check_text(quoted + "<p>we are fully compliant</p>")
    assert check_data({"a": u("certified"), "b": ["x", u("guarantee")]}) == []
    findings = check_data({"a": {"b": ["fine", "guaranteed"]}})
    assert [f.where for f in findings] == ["/a/b/1"]


def test_templates_say_nothing_forbidden() -> None:
    templates = sorted(TEMPLATES.rglob("*.j2"))
    # Issue 17.11: with no template found (a moved folder, a changed suffix) the loop checked
    # nothing and passed. The package page and the section templates must all be there.
    assert TEMPLATES / "package.html.j2" in templates
    assert len(templates) >= 1 + len(list((TEMPLATES / "sections").glob("*"))) > 1
    for path in templates:
        assert check_text(path.read_text(encoding="utf-8"), where=path.name) == [], path.name


def _with_user_promises(doc: SiteDocument) -> SiteDocument:
    zones = tuple(
        z.model_copy(update={"name": f"{z.name} (certified)", "description": "Vendor: fully compliant, guaranteed."})
        for z in doc.zones
    )
    risks = tuple(r.model_copy(update={"title": f"{r.title} despite guarantee"}) for r in doc.risks)
    return doc.model_copy(update={"zones": zones, "risks": risks})


def test_user_data_with_forbidden_words_renders_and_is_quoted(example_doc: SiteDocument) -> None:
    doc = _with_user_promises(example_doc)
    for audience in ("auditor", "customer"):
        files = render_package(build_package(doc, audience, AS_OF), ["html", "json"])
        if audience == "auditor":
            text = files["evidence-auditor.html"].decode()
            assert "Vendor: fully compliant, guaranteed." in text and "(certified)" in text


def test_generated_wording_fails_the_package(example_doc: SiteDocument) -> None:
    pkg = build_package(example_doc, "customer", AS_OF)
    i = next(n for n, s in enumerate(pkg.sections) if s.id == "overview")
    first = pkg.sections[i]
    bad = SectionData(first.id, first.title, {**first.data, "purpose": "Our plant is fully secure."})
    pkg.sections[i] = bad
    with pytest.raises(LanguageError, match="fully secure"):
        render_package(pkg, ["html"])
    with pytest.raises(LanguageError, match="fully secure"):
        render_package(pkg, ["json"])
    # The same words as user data pass.
    pkg.sections[i] = SectionData(first.id, first.title, {**first.data, "purpose": u("Our plant is fully secure.")})
    assert render_package(pkg, ["html", "json"])
