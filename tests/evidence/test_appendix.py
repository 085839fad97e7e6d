"""Appendix files (issue 15, speed): long tables leave the PDF for a CSV file of the package,
named with its letter, rows and SHA-256 in the PDF and hashed in the manifest; cells that a
spreadsheet would run are defused; the same input gives the same bytes; a customer package's
appendix files go through the leak guard."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from zonewarden.evidence import appendix
from zonewarden.evidence.builder import build_package, render_package
from zonewarden.evidence.redaction import LeakError
from zonewarden.evidence.sections import SectionData, asset_register, calendar, legacy, traceability

from .conftest import AS_OF, generated_site


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(value: str) -> None:
    assert appendix.cell(value) == "'" + value
    rows = list(csv.reader(io.StringIO(appendix.csv_bytes(["a"], [[value]]).decode(), newline="")))
    assert rows[1] == ["'" + value]


def test_plain_cells_stay_as_they_are() -> None:
    assert [appendix.cell(v) for v in ("SR 1.1", "a=b", None, [1, 2, 3], True, 4)] == \
        ["SR 1.1", "a=b", "", "1 2 3", "yes", "4"]


@pytest.fixture(scope="module")
def big_site():  # type: ignore[no-untyped-def]
    doc = generated_site(asset_register.TABLE_LIMIT + 10)
    doc.risks  # noqa: B018
    return doc


def test_large_tables_go_to_hashed_lettered_appendix_files(big_site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(traceability, "TABLE_LIMIT", 10)
    monkeypatch.setattr(legacy, "TABLE_LIMIT", 10)
    monkeypatch.setattr(calendar, "TRIGGER_LIMIT", 10)
    package = build_package(big_site, "auditor", AS_OF)
    by_id = {s.id: s for s in package.sections}
    trace, old, cal, register = (by_id[k] for k in ("traceability", "legacy", "calendar", "asset-register"))
    # lettered in package order: traceability, legacy constraints, triggers, then the asset register
    assert [s.data["appendix"]["letter"] for s in (trace, old, cal, register)] == ["A", "B", "C", "D"]
    assert cal.data["triggers"] == [] and sum(c["triggers"] for c in cal.data["trigger_counts"]) == cal.data["triggers_total"]
    assert old.data["assets"] == [] and sum(z["assets"] for z in old.data["by_zone"]) == old.data["assets_total"] > 10
    assert all(not a["compensating_controls"] for a in old.data["top"])
    assert trace.data["rows"] == [] and trace.data["top"] and all(not r["counts"] for r in trace.data["top"])
    assert sum(z["risks"] for z in trace.data["by_zone"]) == len(big_site.risks)
    assert register.data["rows"] == [] and sum(z["assets"] for z in register.data["by_zone"]) == len(big_site.assets)
    past = [r for r in register.data["top"]]
    assert past and all(r["end_of_support"] < AS_OF.isoformat() for r in past)

    files = render_package(package, ["html", "json"])
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    html = files["evidence-auditor.html"].decode()
    for name, section in (("traceability.csv", trace), ("legacy-assets.csv", old),
                          ("reassessment-triggers.csv", cal), ("asset-register.csv", register)):
        digest = hashlib.sha256(files[name]).hexdigest()
        assert listed[name]["sha256"] == digest == section.data["appendix"]["sha256"]
        assert manifest["notes"][name].startswith(f"Appendix {section.data['appendix']['letter']}: ")
        assert digest in html and name in html
        rows = list(csv.reader(io.StringIO(files[name].decode(), newline="")))
        assert rows[0] == list(section.data["appendix"]["columns"])
        assert len(rows) - 1 == section.data["appendix"]["rows"]
    assert "Appendix A: traceability" in html and "Appendix D: asset register" in html
    # reproducible: the same input gives the same bytes
    again = render_package(build_package(big_site, "auditor", AS_OF), ["html", "json"])
    assert again["traceability.csv"] == files["traceability.csv"]
    assert again["asset-register.csv"] == files["asset-register.csv"]
    assert again["legacy-assets.csv"] == files["legacy-assets.csv"]
    assert again["manifest.json"] == files["manifest.json"]


def test_small_tables_stay_in_the_pdf(example_doc) -> None:  # type: ignore[no-untyped-def]
    package = build_package(example_doc, "auditor", AS_OF)
    by_id = {s.id: s for s in package.sections}
    assert by_id["traceability"].data["appendix"] is None and by_id["traceability"].data["rows"]
    assert not any(s.files for s in package.sections)


def test_a_customer_appendix_file_goes_through_the_leak_guard(big_site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    package = build_package(big_site, "customer", AS_OF)
    assert not any(s.files for s in package.sections)  # no customer section has an appendix today
    secret = next(a.serial_number for a in big_site.assets if a.serial_number)
    descriptor, files = appendix.csv_appendix("leaky.csv", "leak", ["serial"], [[secret]])
    package.sections.append(SectionData("leaky", "leak", {"appendix": descriptor}, files=files))
    with pytest.raises(LeakError) as err:
        render_package(package, ["json"])
    assert "leaky.csv" in str(err.value)
