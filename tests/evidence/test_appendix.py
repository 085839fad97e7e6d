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
from zonewarden.evidence.sections import (
    SectionData,
    architecture,
    asset_register,
    calendar,
    legacy,
    residual_risks,
    risk_register,
    segmentation,
    traceability,
    zone_levels,
)

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
    risk = by_id["risk-register"]
    [suppliers] = risk.data["appendices"]  # every vendor of the big site has no recorded disclosure process
    assert suppliers["file"] == "risk-supplier-inputs.csv"
    assert suppliers["rows"] == sum(len(i["assets"]) for i in risk.data["supplier_inputs"])
    # lettered in package order: traceability, the risk register's supplier inputs, legacy constraints,
    # triggers, then the asset register
    assert [s.data["appendix"]["letter"] for s in (trace, old, cal, register)] == ["A", "C", "D", "E"]
    assert suppliers["letter"] == "B"
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
    assert "Appendix A: traceability" in html and "Appendix E: asset register" in html
    assert "Appendix B: risk inputs" in html and " more</td>" in html  # the PDF names twelve assets a row
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
    assert by_id["zone-levels"].data["appendix"] is None and by_id["segmentation"].data["appendix"] is None
    assert by_id["segmentation"].data["findings"]
    assert by_id["risk-register"].data["entries"] and by_id["residual-risks"].data["rows"]
    assert not by_id["architecture"].data["diagram_simplified"] and not by_id["architecture"].data["appendices"]
    assert by_id["architecture"].data["conduits"] and not by_id["architecture"].data["conduit_summary"]
    assert not any(s.files for s in package.sections)


def _csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def test_zone_levels_segmentation_and_the_diagram_go_to_appendix_files(big_site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(zone_levels, "TARGET_LIMIT", 10)
    monkeypatch.setattr(zone_levels, "DETAIL_ZONES", 3)
    monkeypatch.setattr(segmentation, "FINDING_LIMIT", 5)
    monkeypatch.setattr(segmentation, "TOP_ROWS", 2)
    monkeypatch.setattr(architecture, "DIAGRAM_ZONE_LIMIT", 5)
    monkeypatch.setattr(architecture, "CONDUIT_LIMIT", 5)
    monkeypatch.setattr(architecture, "TOP_CONDUITS", 3)
    package = build_package(big_site, "auditor", AS_OF)
    by_id = {s.id: s for s in package.sections}
    arch, levels, seg = by_id["architecture"], by_id["zone-levels"], by_id["segmentation"]
    # lettered in package order: the full diagram (architecture), zone levels, ..., segmentation
    letters = [d["letter"] for s in package.sections for d in appendix.descriptors(s)]
    assert letters == [chr(ord("A") + i) for i in range(len(letters))]
    assert [d["letter"] for d in arch.data["appendices"]] == ["A", "B"] and levels.data["appendix"]["letter"] == "C"
    files = render_package(package, ["html", "json"])
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    html = files["evidence-auditor.html"].decode()

    # zone levels: every target x FR in the file with every requirement still to meet; the PDF keeps
    # a row per zone and conduit and the full block of the zones with exceptions and the largest gaps
    targets = levels.data["targets"]
    rows = _csv(files["zone-levels.csv"])
    assert rows[0] == list(zone_levels.COLUMNS) and len(rows) - 1 == 7 * len(targets) == levels.data["rows_total"]
    col = {c: i for i, c in enumerate(rows[0])}
    missing = {(t["id"], f["fr"]): " ".join(f["missing_for_target"]) for t in targets for f in t["frs"]}
    assert {(r[col["target"]], r[col["fr"]]): r[col["still_to_meet"]] for r in rows[1:]} == missing
    assert sum(t["still_to_meet"] for t in targets) == sum(len(f["missing_for_target"]) for t in targets for f in t["frs"])
    detail = levels.data["detail"]
    zones = [t for t in targets if t["kind"] == "zone"]
    # zones with active exceptions first, then the largest total gap
    ranked = sorted(zones, key=lambda t: (not t["exceptions"], -t["total_gap"], t["id"]))
    assert detail == [t["id"] for t in ranked if t["exceptions"] or t["total_gap"]][:3]
    section_html = html[html.index('id="sec-zone-levels"'):html.index('id="sec-traceability"')]
    assert section_html.count("Still to meet up to SL-T") == 3  # the detail blocks only
    for t in targets:
        assert t["id"] in section_html  # every zone and conduit keeps its row
    assert "Appendix C: security levels per zone and conduit and FR" in section_html

    # segmentation: every open and waived finding in the file; the PDF keeps counts per rule and
    # the most severe open findings
    findings = seg.data["findings_total"]
    rows = _csv(files["segmentation-findings.csv"])
    assert rows[0] == list(segmentation.COLUMNS) and len(rows) - 1 == findings + len(seg.data["waived"]) > 5
    assert seg.data["findings"] == [] and sum(r["findings"] for r in seg.data["by_rule"]) == findings
    assert len(seg.data["top"]) == min(2, seg.data["severe_total"])
    assert all(f["severity"] in ("critical", "high") for f in seg.data["top"])

    # the diagram: the simplified one inline, the full one (sanitised, every zone) as a file
    assert arch.data["diagram_simplified"] and "group-" in arch.data["diagram_svg"]
    full = files["architecture-diagram.svg"].decode()
    assert all(f'id="zone-{z.id}"' in full for z in big_site.zones)
    assert "zone-" not in arch.data["diagram_svg"]
    assert manifest["notes"]["architecture-diagram.svg"] == "Appendix A: architecture diagram of every zone and conduit (SVG)"
    assert manifest["notes"]["conduits.csv"].startswith("Appendix B: conduits and their allowed flows, ")

    # conduits: every allowed flow in the file, the PDF keeps pairs of zone kinds and the conduits that matter
    rows = _csv(files["conduits.csv"])
    flows = sum(max(1, len(c.flows)) for c in big_site.conduits)
    assert rows[0] == list(architecture.COLUMNS) and len(rows) - 1 == flows
    assert {r[0] for r in rows[1:]} == {c.id for c in big_site.conduits} and arch.data["conduits"] == []
    assert sum(p["conduits"] for p in arch.data["conduit_pairs"]) == len(big_site.conduits) == arch.data["conduits_total"]
    top = arch.data["top_conduits"]
    assert len(top) <= 3 and all(c["open_findings"] or not c["protections"] or c["remote_access"] for c in top)
    for name, descriptor in (("architecture-diagram.svg", arch.data["appendices"][0]),
                             ("conduits.csv", arch.data["appendices"][1]),
                             ("zone-levels.csv", levels.data["appendix"]),
                             ("segmentation-findings.csv", seg.data["appendix"])):
        digest = hashlib.sha256(files[name]).hexdigest()
        assert listed[name]["sha256"] == digest == descriptor["sha256"]
        assert digest in html and name in html
    assert "SHA256SUMS" in files and all(name in files["SHA256SUMS"].decode()
                                         for name in ("architecture-diagram.svg", "zone-levels.csv",
                                                      "segmentation-findings.csv"))
    again = render_package(build_package(big_site, "auditor", AS_OF), ["html", "json"])
    assert all(again[n] == files[n] for n in ("architecture-diagram.svg", "zone-levels.csv", "segmentation-findings.csv"))


def test_a_customer_appendix_file_goes_through_the_leak_guard(big_site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    package = build_package(big_site, "customer", AS_OF)
    assert not any(s.files for s in package.sections)  # no customer section has an appendix today
    secret = next(a.serial_number for a in big_site.assets if a.serial_number)
    descriptor, files = appendix.csv_appendix("leaky.csv", "leak", ["serial"], [[secret]])
    package.sections.append(SectionData("leaky", "leak", {"appendix": descriptor}, files=files))
    with pytest.raises(LeakError) as err:
        render_package(package, ["json"])
    assert "leaky.csv" in str(err.value)


def test_the_risk_register_and_residual_risks_go_to_appendix_files(big_site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(risk_register, "TABLE_LIMIT", 10)
    monkeypatch.setattr(risk_register, "TOP_ROWS", 5)
    monkeypatch.setattr(residual_risks, "TABLE_LIMIT", 10)
    monkeypatch.setattr(residual_risks, "TOP_ROWS", 5)
    package = build_package(big_site, "auditor", AS_OF)
    by_id = {s.id: s for s in package.sections}
    reg, res = by_id["risk-register"], by_id["residual-risks"]
    files = render_package(package, ["html", "json"])
    html = files["evidence-auditor.html"].decode()
    n = len(big_site.risks)
    assert reg.data["entries"] == [] and reg.data["entries_total"] == n > 10
    rows = _csv(files["risk-register.csv"])
    assert rows[0] == list(risk_register.COLUMNS) and len(rows) - 1 == n
    assert sorted(r[0] for r in rows[1:]) == sorted(r.id for r in big_site.risks)
    over = {r[0] for r in rows[1:] if r[rows[0].index("over_tolerance")] == "yes"}
    top = reg.data["top"]
    assert 0 < len(top) <= 5 and all(e["over_tolerance"] or e["flags"] for e in top)
    if len(over) >= 5:  # those above tolerance come first
        assert all(e["over_tolerance"] for e in top)
    assert reg.data["heat_map_residual"] and sum(c["count"] for row in reg.data["heat_map_residual"] for c in row) == n

    assert res.data["rows"] == [] and sum(z["risks"] for z in res.data["by_zone"]) == n
    rows = _csv(files["residual-risks.csv"])
    assert rows[0] == list(residual_risks.COLUMNS) and len(rows) - 1 == n
    assert all(not r["tolerable"] or r["review_overdue"] for r in res.data["top"]) and len(res.data["top"]) <= 5
    for name, section in (("risk-register.csv", reg), ("residual-risks.csv", res)):
        assert hashlib.sha256(files[name]).hexdigest() == section.data["appendix"]["sha256"]
        assert section.data["appendix"]["sha256"] in html
    for e in top:
        assert e["id"] in html


def test_untrusted_names_stay_text_in_the_summaries_and_files(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = generated_site(300)
    hostile = "<script>alert(1)</script>=HYPERLINK(1)"
    zones = [z.model_copy(update={"name": hostile}) if i == 3 else z for i, z in enumerate(doc.zones)]
    doc = doc.model_copy(update={"zones": tuple(zones)})
    target = zones[3].id
    monkeypatch.setattr(zone_levels, "TARGET_LIMIT", 1)
    monkeypatch.setattr(zone_levels, "DETAIL_ZONES", 0)
    monkeypatch.setattr(architecture, "DIAGRAM_ZONE_LIMIT", 1)
    files = render_package(build_package(doc, "auditor", AS_OF), ["html"])
    html = files["evidence-auditor.html"].decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in files["architecture-diagram.svg"].decode().lower()
    rows = _csv(files["zone-levels.csv"])
    names = {r[2] for r in rows[1:] if r[1] == target}
    assert names == {hostile}  # starts with "<": text, not a formula, kept as it is
    assert all(not r[2].startswith("=") for r in rows[1:])


def test_a_long_list_of_due_assessments_goes_to_an_appendix_file(big_site, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    full = {s.id: s for s in build_package(big_site, "auditor", AS_OF).sections}["calendar"].data
    monkeypatch.setattr(calendar, "DUE_LIMIT", 5)
    package = build_package(big_site, "auditor", AS_OF)
    cal = {s.id: s for s in package.sections}["calendar"]
    if full["appendices"]:  # the big site may already be above the real limit
        assert full["due"] == []
    everything = full["due"] or None
    [due] = cal.data["appendices"]
    assert due["file"] == "assessments-due.csv" and cal.data["due"] == []
    assert due["rows"] == cal.data["due_total"] == sum(c["assessments"] for c in cal.data["due_counts"]) > 5
    rows = _csv(cal.files["assessments-due.csv"])
    assert rows[0] == list(calendar.DUE_COLUMNS) and len(rows) - 1 == due["rows"]
    if everything is not None:
        assert sorted(r[0] for r in rows[1:]) == sorted(str(r["zone"]) for r in everything)
    ranks = [{"overdue": 0, "due": 1}.get(r["status"], 2) for r in cal.data["due_top"]]
    assert ranks == sorted(ranks) and cal.data["overdue"] == sum(1 for r in rows[1:] if r[3] == "overdue")
    html = render_package(package, ["html"])["evidence-auditor.html"].decode()
    assert "assessments-due.csv" in html and due["sha256"] in html
