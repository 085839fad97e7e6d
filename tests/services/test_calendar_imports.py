"""Reassessment triggers from re-imports recorded in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.io.sitefile import load_site
from zonewarden.services import sites
from zonewarden.services.calendar import import_triggers
from zonewarden.services.principal import local_principal

EXTRA = """\
  - {id: vendor, name: Vendor access, kind: remote-access, purdue_level: 3.5}
"""
CONDUIT = """\
  - id: vendor-cell
    zones: [vendor, cell]
    protections: [vpn]
    flows: [{source: vendor, destination: cell, protocol: rdp, ports: [3389], remote_access: true}]
assets:
  - {id: sis-1, name: Safety PLC, type: safety-controller, zone: cell, criticality: critical}
"""


def test_reimport_adding_exposed_conduit_and_critical_asset(store, mini_site_file: Path, mini_site_text: str,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    first = load_site(mini_site_file)
    sites.import_documents(store, [first], principal=local_principal())
    assert import_triggers(store, first) == []  # the first import is the baseline

    text = mini_site_text.replace("conduits:\n", EXTRA + "conduits:\n", 1).replace("assets:\n", CONDUIT, 1)
    changed = tmp_path / "changed.yaml"
    changed.write_text(text, encoding="utf-8")
    second = load_site(changed)
    sites.import_documents(store, [second], reason="vendor access for the cell", principal=local_principal())
    got = {(t.kind, t.ref, t.zones) for t in import_triggers(store, second)}
    assert got == {
        ("new-external-connectivity", "conduit:vendor-cell", ("cell",)),
        ("new-critical-asset", "asset:sis-1", ("cell",)),
    }

    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["due", "--db", url, "--format", "json", "--within", "400d"])
    items = json.loads(result.stdout)["items"]
    triggers = {i["trigger"] for i in items if i["kind"] == "scoped"}
    assert {"import:conduit:vendor-cell", "import:asset:sis-1"} <= triggers
    assert result.exit_code == 1  # the mini site was never assessed
