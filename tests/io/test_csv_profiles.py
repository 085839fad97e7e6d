"""Asset exports of OT visibility tools read through their profiles (--profile), with user value
maps (--map-values): the fields each tool's columns fill, product versus model, the columns not
used, and every kind of bad input with its file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from zonewarden.errors import InputError, SiteFileError
from zonewarden.io.assets_csv import read_assets_table
from zonewarden.io.csv_profiles import (
    all_profiles,
    load_profile,
    load_value_maps,
    norm,
    profile_names,
)

DATA = Path(__file__).parent / "data" / "ot_exports"
ZONES = {"brew", "pack-l2", "ops-dmz"}


def read(name: str, *, maps: bool = True, **kw: object):  # type: ignore[no-untyped-def]
    return read_assets_table(DATA / f"{name}.csv", profile=load_profile(name), known_zones=ZONES,
                             value_maps=load_value_maps(DATA / "values.yaml") if maps else None, **kw)  # type: ignore[arg-type]


def by_id(result) -> dict:  # type: ignore[no-untyped-def]
    return {a.id: a for a in result.assets}


def test_every_profile_loads_names_its_source_and_maps_only_to_real_types() -> None:
    assert profile_names() == ["armis", "claroty", "dragos", "nozomi", "tenable-ot"]
    for p in all_profiles():
        assert p.source and p.product_model and p.title, p.name
        assert {"name", "type"} <= set(p.columns), p.name
        assert p.types, p.name
        # Names are compared without case, spaces and punctuation: a column listed twice is a slip.
        listed = [norm(c) for cols in p.columns.values() for c in cols]
        assert len(listed) == len(set(listed)), p.name
        assert not set(listed) & set(p.ignore), p.name


def test_claroty_model_is_the_product_and_zones_come_through_the_value_map() -> None:
    result = read("claroty")
    assets = by_id(result)
    plc = assets["bh-plc-01"]
    assert (plc.vendor, plc.product, plc.model_number, plc.version) == ("Siemens", "SIMATIC S7-1500", None, "V2.9.4")
    assert plc.zone == "brew" and plc.criticality == "high" and plc.addresses == ("10.20.1.10",)
    assert assets["pk2-sw-01"].type == "switch"
    assert assets["ops-hist-01"].criticality == "critical" and assets["ops-hist-01"].os == "Windows Server 2019"
    unused = {u.column: u.why for u in result.unused}
    assert set(unused) == {"MAC", "Site", "Last Seen"}
    assert unused["MAC"] and "MAC" in unused["MAC"] and unused["Last Seen"] is None


def test_nozomi_uses_its_ids_and_puts_product_name_in_product() -> None:
    result = read("nozomi")
    assets = by_id(result)
    assert set(assets) == {"a3f1c2d0-0001", "a3f1c2d0-0002", "a3f1c2d0-0003", "a3f1c2d0-0004", "a3f1c2d0-0005"}
    assert assets["a3f1c2d0-0005"].type == "other"  # Nozomi writes "-" for a type it could not tell
    plc = assets["a3f1c2d0-0001"]
    assert (plc.name, plc.type, plc.product, plc.serial_number) == ("bh-plc-01", "plc", "CPU 1516-3 PN/DP", "S V-L9A12345")
    assert assets["a3f1c2d0-0002"].type == "engineering-workstation"
    assert assets["a3f1c2d0-0002"].os == "Windows 10 Enterprise LTSC" and assets["a3f1c2d0-0002"].product is None
    assert assets["a3f1c2d0-0003"].type == "other"
    assert [u.column for u in result.unused] == ["level", "mac_address", "vlan_id", "last_activity_time"]


def test_dragos_lists_and_hostnames() -> None:
    assets = by_id(read("dragos"))
    rtu = assets["1002"]
    assert rtu.addresses == ("10.20.1.40", "10.20.1.41") and rtu.hostnames == ("bh-rtu-01",)
    assert rtu.type == "rtu" and rtu.product == "SCADAPack 470"
    assert assets["1003"].type == "scada-server" and assets["1003"].zone == "ops-dmz"


def test_tenable_ot_family_is_the_product_and_model_the_order_number() -> None:
    result = read("tenable-ot")
    assets = by_id(result)
    ctl = assets["controller-2"]
    assert (ctl.vendor, ctl.product, ctl.model_number, ctl.version) == (
        "Rockwell Automation", "ControlLogix", "1756-L83E", "33.011")
    assert ctl.addresses == () and ctl.description == "Filler line controller"
    assert assets["comm-adapter-1"].type == "io-module"
    assert assets["bh-plc-01"].model_number == "6ES7 516-3AN01-0AB0"
    assert assets["ops-ews-02"].criticality == "low"
    assert {u.column for u in result.unused} == {"MAC", "Backplane", "Slot", "Purdue Level", "Risk Score"}


def test_armis_plural_types_comma_separated_addresses_and_tags() -> None:
    result = read("armis")
    assets = by_id(result)
    hist = assets["ops-hist-01"]
    assert hist.type == "server" and hist.addresses == ("10.20.9.5", "10.20.19.5")
    assert hist.tags == ("historian",) and assets["bh-plc-01"].tags == ("brewhouse", "sil0")
    assert assets["pk2-vfd-02"].type == "drive" and assets["pk2-robot-01"].type == "robot"
    assert assets["pk2-robot-01"].product == "KR 16 R2010-2"
    assert {u.column for u in result.unused} == {"Category", "MAC Address", "Site", "Risk Level", "Last Seen"}


def test_without_the_value_map_the_tool_zone_names_are_refused_at_their_cell() -> None:
    with pytest.raises(SiteFileError) as err:
        read("claroty", maps=False)
    problems = err.value.problems
    assert len(problems) == 5 and "nothing was written" in str(err.value)
    first = problems[0]
    assert (first.line, first.column) == (2, 10) and "unknown zone 'Brew House'" in first.message
    assert "--map-values" in first.message


def test_a_value_map_rewrites_models_and_types(tmp_path: Path) -> None:
    maps = tmp_path / "maps.yaml"
    maps.write_text("type:\n  OT_device: drive\nproduct:\n  cpu 1516-3 pn/dp: SIMATIC S7-1500\n"
                    "zone:\n  Brew House: brew\n  Packaging Line 2: pack-l2\n")
    result = read_assets_table(DATA / "nozomi.csv", profile=load_profile("nozomi"), known_zones=ZONES,
                               value_maps=load_value_maps(maps))
    assets = by_id(result)
    assert assets["a3f1c2d0-0003"].type == "drive"
    assert assets["a3f1c2d0-0001"].product == "SIMATIC S7-1500"  # matched without case and punctuation


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(InputError) as err:
        load_profile("forescout")
    assert "forescout" in str(err.value) and "claroty, dragos" in str(err.value)


def test_missing_required_columns_name_the_field_the_profile_and_its_columns(tmp_path: Path) -> None:
    f = tmp_path / "export.csv"
    f.write_text("Device,IP\nbh-plc-01,10.20.1.10\n")
    with pytest.raises(SiteFileError) as err:
        read_assets_table(f, profile=load_profile("tenable-ot"))
    messages = [p.message for p in err.value.problems]
    assert len(messages) == 2
    assert "profile 'tenable-ot' needs a column for asset field 'name'" in messages[0]
    assert "'Device', 'IP'" in messages[0] and "'type'" in messages[1]


def test_bad_rows_are_reported_with_line_and_column_and_nothing_is_returned(tmp_path: Path) -> None:
    f = tmp_path / "export.csv"
    f.write_text("Name,Type,Vendor,IP Address,Boundaries\n"
                 "bh-plc-01,PLCs,Siemens,10.20.1.10,brew\n"
                 "bh-x,Coffee Machines,Jura,10.20.1.99,brew\n"
                 "bh-y,PLCs,Siemens,10.20.1.999,brew\n"
                 "BH PLC 01,PLCs,Siemens,10.20.1.11,brew\n")
    with pytest.raises(SiteFileError) as err:
        read_assets_table(f, profile=load_profile("armis"), known_zones=ZONES)
    p1, p2, p3 = err.value.problems
    assert (p1.line, p1.column) == (3, 2) and "'Coffee Machines' is not an asset type" in p1.message
    assert "profile 'armis'" in p1.message and "under 'type:'" in p1.message
    assert (p2.line, p2.column) == (4, 4) and "column 'IP Address'" in p2.message
    assert p3.line == 5 and "already on line 2" in p3.message and "ids are made from 'name'" in p3.message


@pytest.mark.parametrize(("text", "where", "why"), [
    ("vendor: [Siemens]\n", (1, 9), "must map values"),
    ("vendors:\n  Siemens AG: Siemens\n", (1, 1), "unknown section 'vendors'"),
    ("vendor:\n  Siemens AG: Siemens\ntype:\n  Safety PLC: safety-plc\n", (4, 15), "'safety-plc' is not an asset type"),
    ("zone:\n  Brew House: Brew House\n", (2, 15), "is not a zone id"),
    ("criticality:\n  '5': extreme\n", (2, 8), "is not one of low"),
    ("model:\n  x: \n", (2, 3), "non-empty text"),
    ("vendor:\n  a: b\n   c: d\n", (3, 5), "not valid YAML"),
])
def test_a_bad_value_map_names_file_line_and_why(tmp_path: Path, text: str, where: tuple[int, int], why: str) -> None:
    f = tmp_path / "maps.yaml"
    f.write_text(text)
    with pytest.raises(SiteFileError) as err:
        load_value_maps(f)
    problem = err.value.problems[0]
    assert why in problem.message or why in str(err.value), (problem, err.value)
    assert problem.file == str(f) and problem.line == where[0], problem


def test_the_docs_show_every_profile_column() -> None:
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "site-file.md").read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location("gen_csv_profile_docs", root / "scripts" / "gen_csv_profile_docs.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.tables() in text, "docs/site-file.md is stale: run python scripts/gen_csv_profile_docs.py"
    for p in all_profiles():
        assert f"--profile {p.name}`" in text, p.name
        for cols in p.columns.values():
            for c in cols:
                assert f"`{c}`" in text, (p.name, c)


def test_list_cells_written_as_json_lists_are_read(tmp_path: Path) -> None:
    f = tmp_path / "nozomi.csv"
    f.write_text('id,name,type,ip,zones\nn-1,rtu-1,RTU,"[""10.20.1.40"", ""10.20.1.41""]",brew\n'
                 "n-2,rtu-2,RTU,['10.20.1.42'],brew\n")
    assets = by_id(read_assets_table(f, profile=load_profile("nozomi"), known_zones=ZONES))
    assert assets["n-1"].addresses == ("10.20.1.40", "10.20.1.41")
    assert assets["n-2"].addresses == ("10.20.1.42",)


def test_a_map_option_wins_over_the_profile(tmp_path: Path) -> None:
    f = tmp_path / "tenable.csv"
    f.write_text("Name,Type,Family,Model,Catalog\nctl-1,Controller,ControlLogix,1756-L83E,1756-L83ES\n")
    (asset,) = read_assets_table(f, profile=load_profile("tenable-ot"), columns={"Catalog": "model_number"}).assets
    assert (asset.product, asset.model_number) == ("ControlLogix", "1756-L83ES")
