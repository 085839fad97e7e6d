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
