"""`import --dry-run`, the export stamp and the refusal to lose recorded work, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
CONTROL = (
    "id: CC-COAT-XP2\n"
    "title: Renewed isolation of the coating HMI\n"
    "description: Same isolation measures, renewed until the panel is replaced in 2027.\n"
    "covers: [SR 1.1 RE 1, SR 2.5, SR 3.2]\n"
    "zones: [coat]\n"
    "rationale: legacy-os\n"
    "owner: p-jweber\n"
    "review: 2027-03-01\n"
    "expires: 2027-09-01\n"
)


def run(*args: str, actor: str | None = None) -> tuple[int, str, str]:
    env = {"ZONEWARDEN_ACTOR": actor} if actor else None
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    monkeypatch.setenv("ZONEWARDEN_DB", db_url)
    monkeypatch.setenv("ZONEWARDEN_ACTOR", "tester")
    code, _, err = run("import", str(EXAMPLE))
    assert code == 0, err
    code, _, err = run("export", "-o", str(tmp_path / "old"))
    assert code == 0 and "(revision 1)" in err, err
    return tmp_path


def test_silent_delete_scenario(db: Path) -> None:
    old = db / "old"
    assert (old / "rheinfeld-os" / "zonewarden-stamp.json").is_file()
    code, out, _ = run("import", "--dry-run", str(old))
    assert code == 0 and "rheinfeld-os: unchanged" in out

    code, _, err = run("requirement", "set", "coat", "SR 2.5", "implemented", "--assessed", "2026-11-02", actor="carla")
    assert code == 0, err
    (db / "cc.yaml").write_text(CONTROL)
    assert run("compensation", "record", str(db / "cc.yaml"), actor="dan")[0] == 0
    code, _, err = run("compensation", "approve", "CC-COAT-XP2", "--approver", "p-hkessler", "--date", "2026-11-24",
                       actor="erin")
    assert code == 0, err

    code, out, err = run("import", "--dry-run", str(old))
    assert code == 2
    assert "remove: CC-COAT-XP2" in out and "change: coat/SR 2.5" in out
    code, out, _ = run("import", "--dry-run", "--format", "json", str(old))
    [plan] = json.loads(out)
    assert code == 2 and plan["would_import"] is False and plan["file_revision"] == 1
    assert plan["sections"]["compensating_controls"]["removed"] == ["CC-COAT-XP2"]
    assert {(c["id"], c["by"], c["needs"]) for c in plan["conflicts"]} == {
        ("coat/SR 2.5", "carla", "force"), ("CC-COAT-XP2", "erin", "prune")}

    code, _, err = run("import", str(old))
    assert code == 2 and "nothing was imported" in err
    assert "compensating_controls CC-COAT-XP2: added since revision 1 by erin" in err and "--prune or --force" in err
    assert "requirements coat/SR 2.5: changed since revision 1 by carla" in err
    run("export", "-o", str(db / "now"))
    assert "CC-COAT-XP2" in (db / "now" / "rheinfeld-os" / "compensating_controls.yaml").read_text()  # still there

    code, _, err = run("import", "--prune", str(old))
    assert code == 2 and "coat/SR 2.5" in err and "CC-COAT-XP2" not in err  # prune does not overwrite

    code, _, err = run("import", "--force", "--reason", "roll back to the reviewed export", str(old))
    assert code == 0, err
    assert "overridden: compensating_controls CC-COAT-XP2" in err
    code, out, _ = run("audit", "log", "--format", "json")
    last = json.loads(out)[-1]
    assert last["action"] == "site.import" and last["after"]["allowed_by"] == "force"
    code, out, _ = run("import", "--dry-run", str(old))
    assert code == 0 and "unchanged" in out


def test_export_import_export_is_identical_with_the_stamp(db: Path) -> None:
    code, _, err = run("import", str(db / "old"))
    assert code == 0 and "unchanged" in err
    run("export", "-o", str(db / "again"))
    for f in sorted((db / "old" / "rheinfeld-os").glob("*.*")):
        assert (db / "again" / "rheinfeld-os" / f.name).read_bytes() == f.read_bytes(), f.name
