"""Benchmark: the auditor evidence package of a synthetic 10k-asset site.

    .venv/bin/python bench/bench_report.py [--assets 10000] [--seed 62443] [--no-pdf]

The site comes from bench/synth.py (zones, conduits, assets) and is enriched here with what an
auditor package reports on: a requirement status for every SR/RE of every zone, compensating
controls with the options considered, exceptions, two risk scenarios per zone, legacy
constraints, assessments and change records, all from a fixed seed.

Printed: the time to build the sections (per section, engines apart), to render HTML + JSON and
to render the PDF, each also as a ratio against a baseline measured in the same run: plain
``orjson.dumps`` of the site document (the least any export of the same data costs). The PDF
rendering's CPU time is printed too: on a shared machine it varies less than the wall time.
Peak memory is the process's VmHWM, reset before the PDF (and before each section with
``--pdf-per-section``), so it is the peak of the PDF rendering itself.
Targets: HTML + JSON under 30 s (issue 5); the PDF package under 30 s, under 600 MB and under
120x the baseline (issue 15).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402
from synth import generate  # noqa: E402

from zonewarden.catalog import load_62443_3_3  # noqa: E402
from zonewarden.domain.site import SiteDocument  # noqa: E402
from zonewarden.evidence.builder import build_package, render_package  # noqa: E402

AS_OF = dt.date(2026, 11, 25)


def enrich(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """Add the governance records an auditor package shows (deterministic for ``seed``)."""
    rnd = random.Random(seed)
    reqs = [r.id for r in load_62443_3_3()]
    data["people"] = [
        {"id": "p-owner", "name": "Olivia Owner", "roles": ["asset-owner"], "email": "owner@plant.example"},
        {"id": "p-approver", "name": "Arne Approver", "roles": ["management"]},
        {"id": "p-assessor", "name": "Ines Assessor", "roles": ["auditor"]},
    ]
    zones = [z for z in data["zones"] if z["kind"] != "external"]
    controls, statuses, risks, exceptions = [], [], [], []
    for i in range(0, len(zones), 10):
        group = [z["id"] for z in zones[i : i + 10]]
        controls.append({
            "id": f"CC-{i // 10:03d}", "title": f"Isolation of legacy nodes, group {i // 10}",
            "description": "Legacy nodes sit behind a dedicated filtering firewall with monitored access.",
            "covers": sorted(rnd.sample(reqs, 6)), "zones": group, "rationale": "legacy-os",
            "options_considered": [
                {"option": "replace the controllers", "why_not": "needs a line stop and full revalidation"},
                {"option": "isolate behind a cell firewall"},
            ],
            "owner": "p-owner", "approver": "p-approver", "approved": "2025-03-01",
            "review": "2026-09-01" if i % 30 == 0 else "2027-03-01",
            "expires": "2026-06-30" if i % 50 == 0 else "2027-12-31",
        })
    for n, z in enumerate(zones):
        cc = controls[n // 10]
        for rid in reqs:
            roll = rnd.random()
            row: dict[str, Any] = {"target": z["id"], "requirement": rid}
            if roll < 0.85:
                row["status"] = "implemented"
                if roll < 0.2:
                    row["evidence"] = [{"document": f"SOP-{rid.replace(' ', '')}", "date": "2026-01-15"}]
            elif roll < 0.90 and rid in cc["covers"]:
                row.update(status="compensated", compensating_control=cc["id"])
            elif roll < 0.92:
                row.update(status="not-applicable", justification="Function not present in this zone.")
            elif roll < 0.95:
                row.update(status="planned", target_date="2027-06-01")
            else:
                row["status"] = "partial"
            statuses.append(row)
        for k in range(2):
            likelihood = rnd.randint(2, 5)
            risks.append({
                "id": f"R-{n:04d}-{k}", "title": f"Malware via {['removable media', 'remote access'][k]} in {z['id']}",
                "threat": {"actor": rnd.choice(["criminal", "insider-negligent", "opportunistic"]),
                           "vector": ["removable-media", "remote-access"][k]},
                "zone": z["id"],
                "inherent": {"likelihood": likelihood, "impacts": {"safety": rnd.randint(1, 5),
                                                                    "supply-disruption": rnd.randint(2, 5)}},
                "controls": [cc["id"], "SR 1.1"] if k == 0 else ["SR 2.1"],
                "residual": {"likelihood": max(1, likelihood - 2)},
                "treatment": "mitigate", "owner": "p-owner",
                "review_date": "2026-06-01" if n % 7 == 0 else "2027-06-01",
            })
        if n % 25 == 0:
            exceptions.append({
                "id": f"EX-{n:04d}", "title": f"Shared operator login in {z['id']}",
                "requirements": ["SR 1.1 RE 1"], "zones": [z["id"]],
                "justification": "Operator panels support one account only until the 2027 upgrade.",
                "residual_risk": "medium", "owner": "p-owner", "approver": "p-approver",
                "approved": "2026-01-01", "expires": "2027-12-31",
            })
    for a in data["assets"]:
        if a.get("end_of_support"):
            a["legacy_constraints"] = ["OEM image on an unsupported OS; vendor will not qualify patches"]
            a["serial_number"] = f"SN{a['id']}"
    data.update(
        people=data["people"], compensating_controls=controls, requirements=statuses, risks=risks,
        exceptions=exceptions,
        assessments=[{"id": "AS-2025", "kind": "full", "date": "2025-05-01", "assessors": ["p-assessor"],
                      "outcome": "satisfactory-with-findings"}],
        changes=[{"id": f"CR-{i:03d}", "type": "new-integration", "title": f"New historian interface {i}",
                  "zones": [zones[i]["id"]], "status": "implemented", "raised": "2026-08-01",
                  "implemented": "2026-09-01", "owner": "p-owner",
                  "approvals": [{"by": "p-approver", "on": "2026-08-10"}]} for i in range(min(20, len(zones)))],
    )
    return data


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: ``5`` into ``/proc/self/clear_refs``) so that
    VmHWM afterwards is the peak of what follows; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_mb(key: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    """VmHWM of this process in MB (0 where /proc is absent)."""
    return _status_mb("VmHWM")


def rss_mb() -> float:
    """VmRSS of this process in MB: per section, the peak is printed as the rise above it."""
    return _status_mb("VmRSS")


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def cpu_timed(fn: Any) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=62443)
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF (the slow part)")
    ap.add_argument("--pdf-per-section", action="store_true",
                    help="also render each section alone to PDF and print its time and page count")
    args = ap.parse_args()

    data = enrich(generate(args.assets, seed=args.seed), args.seed)
    load_s, doc = timed(lambda: SiteDocument.model_validate(data))
    # Baseline: serialising the same document to JSON once, the floor of any export.
    base_s = min(timed(lambda: orjson.dumps(doc.model_dump(mode="json")))[0] for _ in range(3))
    base_cpu = min(cpu_timed(lambda: orjson.dumps(doc.model_dump(mode="json"))) for _ in range(3))
    print(f"site: {len(doc.zones)} zones, {len(doc.conduits)} conduits, {len(doc.assets)} assets, "
          f"{len(doc.requirements)} statuses, {len(doc.risks)} risks; load {load_s:.2f} s")
    print(f"baseline json.dumps of the document: {base_s:.3f} s ({base_cpu:.3f} s CPU)")

    cpu0 = time.process_time()
    build_s, pkg = timed(lambda: build_package(doc, "auditor", AS_OF))
    build_cpu = time.process_time() - cpu0
    html_s, files = timed(lambda: render_package(pkg, ["html", "json"]))
    total = build_s + html_s
    print(f"\nbuild sections          {build_s:7.2f} s  ({build_s / base_s:6.1f}x baseline)")
    print(f"render HTML + JSON      {html_s:7.2f} s  ({html_s / base_s:6.1f}x baseline)")
    print(f"HTML + JSON package     {total:7.2f} s  ({total / base_s:6.1f}x baseline)  target < 30 s "
          f"{'OK' if total < 30 else 'MISSED'}")
    print("  sizes: " + ", ".join(f"{k} {len(v) / 1e6:.1f} MB" for k, v in sorted(files.items()) if k.startswith("evidence")))
    print("\ntime per section (engines apart, first use):")
    for key, seconds in sorted(pkg.timings.items(), key=lambda kv: -kv[1]):
        if key.startswith(("section:", "engine:")):
            print(f"  {key:34s} {seconds:7.3f} s  ({seconds / base_s:6.1f}x baseline)")
    print(f"  peak RSS so far (site, build, HTML + JSON): {peak_rss_mb():.0f} MB")
    if not args.no_pdf:
        from pypdf import PdfReader

        reset = reset_peak_rss()
        cpu_start = time.process_time()
        pdf_s, pdf_files = timed(lambda: render_package(pkg, ["pdf"]))
        pdf_cpu = time.process_time() - cpu_start
        peak = peak_rss_mb()
        pdf_total = build_s + pdf_s
        pdf = pdf_files["evidence-auditor.pdf"]
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        appendices = sorted(n for n in pdf_files if n.endswith((".csv", ".xlsx", ".svg")))
        print(f"\nPDF package (build + HTML + PDF) {pdf_total:7.2f} s  ({pdf_total / base_s:6.1f}x baseline)  "
              f"target < 30 s and < 120x: {'OK' if pdf_total < 30 and pdf_total / base_s < 120 else 'MISSED'}; "
              f"{len(pdf) / 1e6:.1f} MB, {pages} pages; appendix files: {', '.join(appendices) or 'none'}")
        # CPU time of this process: less inflated than wall time when other jobs share the cores.
        print(f"  HTML + PDF rendering: {pdf_s:.2f} s wall, {pdf_cpu:.2f} s CPU "
              f"(build + rendering {build_cpu + pdf_cpu:.2f} s CPU: {(build_cpu + pdf_cpu) / base_cpu:.1f}x the baseline's CPU)")
        print(f"  peak RSS while rendering the PDF (VmHWM{'' if reset else ', since process start'}): "
              f"{peak:.0f} MB  target < 600 MB {'OK' if peak < 600 else 'MISSED'}")
    if args.pdf_per_section:
        import dataclasses

        from pypdf import PdfReader

        from zonewarden.evidence.render import render_html, render_pdf

        print("\nPDF time and peak RSS per section (each alone, with title page and contents):")
        for section in pkg.sections:
            one = dataclasses.replace(pkg, sections=[section], timings={})
            reset = reset_peak_rss()
            start_rss = rss_mb()
            seconds, pdf = timed(lambda one=one: render_pdf(one, render_html(one)))
            peak = f"+{peak_rss_mb() - start_rss:5.0f} MB" if reset else "    n/a"
            print(f"  {section.id:24s} {seconds:7.2f} s  ({seconds / base_s:7.1f}x baseline)  {peak}  "
                  f"{len(PdfReader(io.BytesIO(pdf)).pages)} pages")


if __name__ == "__main__":
    main()
