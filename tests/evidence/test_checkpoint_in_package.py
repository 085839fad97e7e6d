"""Evidence packages carry a signed audit checkpoint, listed and hashed in the manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.services import checkpoints
from zonewarden.store.db import open_store

from .conftest import ROOT


def test_report_with_checkpoint_key_carries_a_verifiable_checkpoint(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(ROOT / "examples" / "pharma-plant"), "--db", db]).exit_code == 0
    keyf = tmp_path / "k"
    checkpoints.keygen(keyf)
    out = tmp_path / "auditor"
    result = runner.invoke(cli, ["report", "--audience", "auditor", "-o", str(out), "--db", db,
                                 "--as-of", "2026-11-25", "--checkpoint-key", str(keyf)])
    assert result.exit_code == 0, result.output
    [cp_file] = list(out.glob("audit-checkpoint-*.json"))
    manifest = json.loads((out / "manifest.json").read_text())
    [entry] = [f for f in manifest["files"] if f["path"] == cp_file.name]
    assert entry["sha256"] == hashlib.sha256(cp_file.read_bytes()).hexdigest()
    assert "proves that the audit log held these events" in manifest["notes"][cp_file.name]
    s = open_store(db)
    with s.read() as conn:
        assert checkpoints.verify(conn, checkpoints.read(cp_file), checkpoints.load_key(keyf)).ok
    s.close()


def test_report_with_checkpoint_dir_carries_the_newest(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zw.db'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(ROOT / "examples" / "pharma-plant"), "--db", db]).exit_code == 0
    keyf, cps = tmp_path / "k", tmp_path / "cps"
    checkpoints.keygen(keyf)
    assert runner.invoke(cli, ["audit", "checkpoint", "--key", str(keyf), "--out", str(cps), "--db", db]).exit_code == 0
    [made] = list(cps.iterdir())
    out = tmp_path / "pkg"
    result = runner.invoke(cli, ["report", "--audience", "auditor", "-o", str(out), "--db", db,
                                 "--as-of", "2026-11-25", "--checkpoint-dir", str(cps)])
    assert result.exit_code == 0, result.output
    assert (out / f"audit-{made.name}").read_bytes() == made.read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(cli, ["report", "--audience", "auditor", "-o", str(tmp_path / "x"), "--db", db,
                                 "--checkpoint-dir", str(empty)])
    assert result.exit_code == 2 and "audit checkpoint" in result.output
