"""The supplier register of a site: vendors of the inventory, their disclosure process, coverage."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.domain.psirt_suppliers import Informed, Supplier, assess
from zonewarden.errors import NotFoundError
from zonewarden.io.sitefile import load_site
from zonewarden.services import sites
from zonewarden.services.principal import Principal, local_principal
from zonewarden.services.psirt_suppliers import suppliers, suppliers_of

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 25)
SUPPLIERS = """\
suppliers:
  - id: siemens
    vendor: Siemens
    psirt_contact: productcert@siemens.com
    policy_url: https://new.siemens.com/global/en/products/services/cert.html
    csaf_provider: https://cert-portal.siemens.com/.well-known/csaf/provider-metadata.json
    signs_advisories: true
    iec_62443_4_1: {certified: true, scope: Digital Industries product development, valid_until: 2028-03-31}
    review_date: 2027-06-30
  - id: rockwell
    vendor: Rockwell Automation
    aliases: [Allen-Bradley]
    psirt_contact: PSIRT@rockwellautomation.com
    review_date: 2026-10-01
  - id: unused-vendor
    vendor: Nobody GmbH
    security_txt: https://nobody.example/.well-known/security.txt
"""


@pytest.fixture
def plant(tmp_path: Path) -> Path:
    folder = tmp_path / "plant"
    shutil.copytree(ROOT / "examples" / "pharma-plant", folder)
    (folder / "suppliers.yaml").write_text(SUPPLIERS)
    return folder


def test_register_lists_every_vendor_with_its_share_and_how_well_the_plant_is_informed(plant: Path) -> None:
    doc = load_site(plant)
    result = suppliers_of(doc, as_of=TODAY)
    rows = {r.vendor: r for r in result.suppliers}
    total = len(doc.assets)
    assert rows["Siemens"].assets == sum(1 for a in doc.assets if a.vendor == "Siemens")
    assert rows["Siemens"].share == pytest.approx(rows["Siemens"].assets / total)
    assert rows["Siemens"].informed is Informed.WELL and rows["Siemens"].reasons == ()
    rock = rows["Rockwell Automation"]
    assert rock.informed is Informed.PARTLY
    assert "no machine-readable (CSAF) advisories" in rock.reasons
    assert "review overdue since 2026-10-01" in rock.reasons
    assert rows["Moxa"].informed is Informed.POORLY and rows["Moxa"].supplier_id is None
    assert rows["Nobody GmbH"].assets == 0
    assert result.suppliers[0].vendor == "Siemens"  # most assets first
    assert 0 < result.poorly_informed_share < 1
    assert result.as_dict()["suppliers"][0]["informed"] == "well"


def test_assessment_rules() -> None:
    assert assess(None, TODAY).informed is Informed.POORLY
    bare = Supplier(id="x", vendor="X")
    assert assess(bare, TODAY).informed is Informed.POORLY
    lapsed = Supplier(id="x", vendor="X", psirt_contact="psirt@x.example", csaf_provider="https://x.example/p.json",
                      signs_advisories=False, review_date=TODAY + dt.timedelta(days=1),
                      support_ends=({"product": "X-100", "ends": TODAY - dt.timedelta(days=1)},))  # type: ignore[arg-type]
    got = assess(lapsed, TODAY)
    assert got.informed is Informed.PARTLY
    assert got.reasons == ("advisories not signed", "support for X-100 ended 2026-11-24")


def test_stored_site_query_authorizes_its_read(store, plant: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = load_site(plant)
    sites.import_documents(store, [doc], principal=local_principal(name="setup"))
    assert suppliers(store, principal=local_principal(), site_id=None, as_of=TODAY) == suppliers_of(doc, as_of=TODAY)
    stranger = Principal(user_id="s", method="token", roles={"elsewhere": frozenset({"viewer"})})
    with pytest.raises(NotFoundError, match="none that you hold a role on"):  # not even its existence is told
        suppliers(store, principal=stranger, site_id=doc.site.id, as_of=TODAY)


def test_cli(plant: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"ZONEWARDEN_DB": db, "ZONEWARDEN_ACTOR": "t"}
    assert CliRunner().invoke(cli, ["import", str(plant)], env=env).exit_code == 0
    res = CliRunner().invoke(cli, ["suppliers", "--as-of", "2026-11-25", "--format", "csv"], env=env)
    assert res.exit_code == 1
    assert res.stdout.splitlines()[0] == "vendor,supplier,assets,share,informed,reasons"
    assert "without a usable disclosure process" in res.stderr


def _with_hms(plant: Path) -> Path:
    """A recorded supplier without any usable process, beside the fixture's well / partly ones."""
    (plant / "suppliers.yaml").write_text(SUPPLIERS + "  - id: hms\n    vendor: HMS Networks\n    review_date: 2027-01-31\n")
    return plant


def test_poorly_informing_suppliers_are_a_risk_input_per_zone_and_flag_the_scenarios_on_their_assets(plant: Path) -> None:
    from zonewarden.engines.risk import register, supplier_inputs

    doc = load_site(_with_hms(plant))
    pack = {i.vendor: i for i in supplier_inputs(doc, TODAY, zone="pack")}
    assert pack["HMS Networks"].supplier == "hms" and pack["HMS Networks"].assets == ("pack-ewon",)
    assert pack["HMS Networks"].reasons == ("no PSIRT contact, security.txt, policy or advisory feed",)
    assert pack["Mitsubishi Electric"].supplier is None  # nobody recorded it
    assert pack["Mitsubishi Electric"].assets == ("pack-hmi-cartoner", "pack-plc-cartoner")
    assert pack["Mitsubishi Electric"].scenarios == ("R-02",)  # R-02 names pack-plc-cartoner
    assert pack["Cognex"].scenarios == ()  # no scenario considers the cameras
    assert "Rockwell Automation" not in pack and "Siemens" not in {i.vendor for i in supplier_inputs(doc, TODAY)}
    assert all(i.zone == "pack" for i in pack.values())

    entries = {e.id: e for e in register(doc, TODAY)}
    [flag] = [f for f in entries["R-02"].flags if f.code == "supplier-poorly-informed"]
    assert "pack-ewon (HMS Networks: no PSIRT contact" in flag.message
    assert "pack-plc-cartoner (Mitsubishi Electric: no disclosure process recorded" in flag.message
    assert "pack-hmi-cartoner" not in flag.message  # only the scenario's own assets are named
    assert "pack-plc-agg" not in flag.message  # Rockwell informs partly: not this input
    assert not [f for f in entries["R-03"].flags if f.code == "supplier-poorly-informed"]  # Siemens: well
    # Recording a usable process for the vendor removes the input and the flag.
    (plant / "suppliers.yaml").write_text(SUPPLIERS + "  - id: hms\n    vendor: HMS Networks\n"
                                          "    psirt_contact: psirt@hms.example\n")
    fixed = load_site(plant)
    assert "HMS Networks" not in {i.vendor for i in supplier_inputs(fixed, TODAY)}
    [flag] = [f for f in {e.id: e for e in register(fixed, TODAY)}["R-02"].flags if f.code == "supplier-poorly-informed"]
    assert "pack-ewon" not in flag.message


def test_a_scenario_naming_no_assets_weighs_every_input_of_its_zone(plant: Path) -> None:
    from zonewarden.engines.risk import evaluate, supplier_inputs

    doc = load_site(_with_hms(plant))
    r02 = next(s for s in doc.risks if s.id == "R-02")
    whole_zone = r02.model_copy(update={"assets": ()})
    inputs = tuple(supplier_inputs(doc, TODAY))
    [flag] = [f for f in evaluate(doc.risk_method, whole_zone, TODAY, suppliers=inputs).flags
              if f.code == "supplier-poorly-informed"]
    pack = [i for i in inputs if i.zone == "pack"]
    assert len(pack) == 8 and "bms-" not in flag.message  # only the scenario's zone
    # the first three suppliers with their assets and reasons, the other five by name: a flag stays short
    assert all(i.vendor in flag.message for i in pack) and "Cognex" in flag.message
    assert pack[0].assets[0] in flag.message and "and " in flag.message and "more suppliers" in flag.message
    assert pack[-1].assets[0] not in flag.message


def test_risks_output_and_the_auditor_package_show_the_supplier_inputs(plant: Path) -> None:
    from zonewarden.evidence.builder import build_package, render_package
    from zonewarden.services.queries.risk import risks_of

    doc = load_site(_with_hms(plant))
    got = risks_of(doc, as_of=TODAY).as_dict()
    hms = [i for i in got["supplier_inputs"] if i["vendor"] == "HMS Networks"]
    assert hms == [{"zone": "pack", "vendor": "HMS Networks", "supplier": "hms", "assets": ["pack-ewon"],
                    "reasons": ["no PSIRT contact, security.txt, policy or advisory feed"], "scenarios": ["R-02"],
                    "message": "pack-ewon (HMS Networks: no PSIRT contact, security.txt, policy or advisory feed)"}]
    res = CliRunner().invoke(cli, ["risks", "--file", str(plant), "--as-of", "2026-11-25"])
    assert res.exit_code == 0, res.output
    assert "risk inputs: assets from suppliers without a usable disclosure process" in res.stderr
    assert "zone pack: pack-hmi-cartoner, pack-plc-cartoner (Mitsubishi Electric" in res.stderr
    assert "zone pack: pack-cam-opc, pack-cam-print-1, pack-cam-print-2 (Cognex: no disclosure process recorded " \
           "for this vendor); in no scenario yet" in res.stderr
    package = build_package(doc, "auditor", TODAY)
    section = next(s for s in package.sections if s.id == "risk-register")
    assert {i["vendor"] for i in section.data["supplier_inputs"] if i["zone"] == "pack"} >= {"HMS Networks", "Cognex"}
    r02 = next(e for e in section.data["entries"] if e["id"] == "R-02")
    [flag] = [f for f in r02["flags"] if f["code"] == "supplier-poorly-informed"]
    assert "pack-ewon" in flag["message"]  # the whole message stays in the data
    assert flag["short"].startswith("assets from 2 supplier(s) without a usable disclosure process (")
    assert "HMS Networks" in flag["short"] and flag["short"].endswith("see the risk inputs below")
    html = render_package(package, ["html"])["evidence-auditor.html"].decode()
    assert "Risk inputs: suppliers without a usable disclosure process" in html
    assert flag["short"] in html and flag["message"] not in html  # the table row shows the short form
