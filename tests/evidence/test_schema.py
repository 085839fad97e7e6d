"""The JSON package follows the published, versioned schema (evidence/schema/package-v1.json)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.redaction import Audience
from zonewarden.evidence.render import SCHEMA_VERSION
from zonewarden.evidence.sections import all_sections, sections_for

from .conftest import ROOT, rendered

SCHEMA = ROOT / "src" / "zonewarden" / "evidence" / "schema" / "package-v1.json"
TEMPLATES = ROOT / "src" / "zonewarden" / "evidence" / "templates" / "sections"


def schema() -> dict:
    data = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(data)
    return data


@pytest.mark.parametrize("audience", ["auditor", "customer"])
def test_packages_validate(example_doc: SiteDocument, audience: str) -> None:
    files = rendered(example_doc, audience, ("html", "json"), "example")
    data = json.loads(files[f"evidence-{audience}.json"])
    jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert [s["id"] for s in data["sections"]] == [s.id for s in sections_for(Audience(audience))]
    assert all(s["title"] and isinstance(s["data"], dict) for s in data["sections"])


def test_schema_rejects_a_broken_package(example_doc: SiteDocument) -> None:
    data = json.loads(rendered(example_doc, "customer", ("html", "json"), "example")["evidence-customer.json"])
    overview = next(s for s in data["sections"] if s["id"] == "overview")
    del overview["data"]["counts"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)


def test_every_section_has_a_template_and_documentation() -> None:
    docs = (ROOT / "docs" / "evidence-packages.md").read_text()
    ids = [s.id for s in all_sections()]
    assert len(ids) == len(set(ids))
    for section in all_sections():
        assert (TEMPLATES / f"{section.id}.html.j2").is_file(), section.id
        assert f"`{section.id}`" in docs, f"section {section.id} is not documented"
        assert section.audiences
