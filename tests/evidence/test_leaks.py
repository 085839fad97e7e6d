"""Leak test: a customer package of the example plant and of a generated site, in every format,
contains no sensitive value of the site (addresses, host names, serial numbers, e-mails, the
location, internal notes, internal asset names)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from pydantic import BaseModel

from zonewarden.domain.common import sensitive_fields
from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.redaction import Audience, LeakError, find_leaks, redact_document

from .conftest import AS_OF, pdf_text, rendered

FORMATS = ("html", "json", "pdf")


def _secrets(value: Any, out: set[str]) -> None:
    """Every sensitive value, read from the model's marks independently of the redaction code."""
    if isinstance(value, BaseModel):
        shareable = set(getattr(value, "shareable", ()) or ())
        for name in type(value).model_fields:
            v = getattr(value, name)
            if name in sensitive_fields(type(value)) and (name not in shareable or name == "notes"):
                for item in v if isinstance(v, tuple) else (v,):
                    if isinstance(item, str) and len(item) >= 3:
                        out.add(item)
            else:
                _secrets(v, out)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _secrets(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _secrets(v, out)


def secrets_of(doc: SiteDocument) -> set[str]:
    out: set[str] = set()
    _secrets(doc, out)
    # A value that is also the whole value of a public field (an asset named like its id) is
    # public anyway: the customer may see it through that field.
    public = {a.id for a in doc.assets} | {z.name for z in doc.zones} | {z.id for z in doc.zones}
    return out - public


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_no_secret(doc: SiteDocument, files: dict[str, bytes]) -> None:
    secrets = secrets_of(doc)
    assert secrets
    haystacks = []
    for name, data in files.items():
        text = pdf_text(data) if name.endswith(".pdf") else data.decode("utf-8")
        haystacks.append((name, text, _squash(html.unescape(text))))
        if name.endswith(".pdf"):
            haystacks.append((name + " (raw)", data.decode("latin-1"), ""))
    found = []
    for secret in sorted(secrets):
        squashed = _squash(secret)
        for name, text, flat in haystacks:
            if secret in text or html.escape(secret) in text or (len(squashed) >= 6 and squashed in flat):
                found.append((name, secret))
    assert not found, f"sensitive values in the customer package: {found[:10]}"


def test_example_has_the_sensitive_values_we_expect(example_doc: SiteDocument) -> None:
    secrets = secrets_of(example_doc)
    assert "10.10.20.15" in secrets  # an address
    assert "sapprd01.corp.rheinfeld-pharma.example" in secrets  # a host name
    assert "VPL2084711" in secrets  # a serial number
    assert example_doc.site.location in secrets
    assert "SAP ERP production client" in secrets  # an internal asset name
    assert any(s.startswith("Managed by group IT") for s in secrets)  # a zone's internal note


def test_customer_package_of_the_example_plant_leaks_nothing(example_doc: SiteDocument) -> None:
    assert_no_secret(example_doc, rendered(example_doc, "customer", FORMATS, "example"))


def test_customer_package_of_a_generated_site_leaks_nothing(generated_doc: SiteDocument) -> None:
    secrets = secrets_of(generated_doc)
    assert any(s.startswith("SER-") for s in secrets) and any("@intern." in s for s in secrets)
    assert_no_secret(generated_doc, rendered(generated_doc, "customer", FORMATS, "generated"))


def test_the_check_would_see_a_leak(example_doc: SiteDocument) -> None:
    # The auditor package shows internal notes of risk scenarios: the same search finds them.
    files = rendered(example_doc, "auditor", ("html",), "example")
    with pytest.raises(AssertionError, match="sensitive values"):
        assert_no_secret(example_doc, files)


def test_builder_refuses_to_write_a_leaking_customer_package(
    example_doc: SiteDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zonewarden.evidence import builder
    from zonewarden.evidence.sections import SectionData

    host = "sapprd01.corp.rheinfeld-pharma.example"
    pkg = builder.build_package(example_doc, "customer", AS_OF)
    pkg.sections.append(SectionData("overview", "Bug", {"purpose": f"oops {host}", "site": {}, "counts": {},
                                                       "as_of": "", "audience": "", "zone_kinds": {}}))
    with pytest.raises(LeakError) as err:
        builder.render_package(pkg, ["json"])
    assert host not in str(err.value)  # the error names the file, not the secret


def test_redaction_rules(example_doc: SiteDocument) -> None:
    asset = next(a for a in example_doc.assets if a.addresses and a.serial_number)
    shared = asset.model_copy(update={"shareable": ("name", "notes"), "notes": "internal"})
    doc = example_doc.model_copy(update={"assets": (shared, *example_doc.assets[1:])})
    red = redact_document(doc, Audience.CUSTOMER)
    first = red.assets[0]
    assert first.name == asset.name  # shareable name kept
    assert first.notes is None  # notes never go out
    assert first.addresses == () and first.hostnames == () and first.serial_number is None
    other = red.assets[1]
    assert other.name == other.id  # internal by default: the id stands in
    assert red.site.location is None and all(p.email is None for p in red.people)
    assert redact_document(doc, Audience.AUDITOR) is doc


def test_find_leaks_matches_tokens_not_fragments() -> None:
    assert find_leaks([("a", "host fw1 is here")], ["fw1"])
    assert not find_leaks([("a", "fw10 and xfw1y")], ["fw1"])
    assert not find_leaks([("a", "site historians and Historians")], ["Historian"])
    assert find_leaks([("a", "the Historian, replicated")], ["Historian"])
    assert find_leaks([("a", '{"x": "O\\"Brien"}')], ['O"Brien'])  # JSON-escaped form
    assert find_leaks([("a", "<td>A &amp; B</td>")], ["A & B"])  # HTML-escaped form
