"""`zonewarden psirt` commands and scripts/psirt-example.sh end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli
from zonewarden.io.csaf import read_csaf
from zonewarden.io.csaf.author_provider import provider_metadata_deviations
from zonewarden.io.csaf.sync import SignatureVerifier

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, db: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"ZONEWARDEN_DB": db, "ZONEWARDEN_ACTOR": "ana"},
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'zw.db'}"


def test_intake_refuses_bad_reports_naming_the_pointer_and_walks_a_case(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"reporter": {"contact": "x"}, "product": "P", "title": "t", "description": "d"}))
    code, _out, err = run("psirt", "intake", str(bad), db=db)
    assert code == 2 and "/reporter/contact" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"reporter": {')
    code, _out, err = run("psirt", "intake", str(broken), db=db)
    assert code == 2 and "not valid JSON" in err
    good = tmp_path / "r.yaml"
    good.write_text("reporter: {contact: rita@example.org}\nproduct: FlowCtl\ntitle: Config write\n"
                    "description: '<img src=x onerror=alert(1)>'\n")
    code, out, _ = run("psirt", "intake", str(good), "--format", "json", db=db)
    assert code == 0
    ref = json.loads(out)["reference"]
    assert run("psirt", "validate", ref, db=db)[0] == 2  # received -> validated is not a legal move
    assert run("psirt", "triage", ref, db=db)[0] == 0
    code, _out, err = run("psirt", "reject", ref, db=db)
    assert code == 2 and "--reason" in err
    assert run("psirt", "reject", ref, "--reason", "duplicate of PSIRT-2025-0007", db=db)[0] == 0
    code, out, _ = run("psirt", "show", ref, db=db)
    shown = json.loads(out)
    assert shown["state"] == "rejected" and shown["report"]["description"] == "<img src=x onerror=alert(1)>"
    code, out, _ = run("psirt", "list", "--format", "json", db=db)
    assert [r["reference"] for r in json.loads(out)] == [ref]
    code, _out, err = run("psirt", "embargo", ref, "--until", "2027-01-15T09:00:00", db=db)
    assert code == 2 and "time zone" in err
    code, _out, err = run("psirt", "cve", ref, "CVE-1", "--state", "requested", db=db)
    assert code == 2 and "not a CVE id" in err
    answer = tmp_path / "answer.txt"
    answer.write_text("Thanks; we could not reproduce it on 2.0.")
    code, out, err = run("psirt", "reply", ref, "--file", str(answer), db=db)  # the report carried no key
    assert code != 0 and out == "" and "--clear" in err
    code, out, err = run("psirt", "reply", ref, "--file", str(answer), "--clear", db=db)
    assert code == 0 and out == "" and "in clear" in err
    code, out, _ = run("psirt", "show", ref, db=db)
    [comm] = json.loads(out)["communications"]
    assert comm["channel"] == "clear" and comm["by"] == "ana" and comm["text"] is None


@pytest.mark.shared
def test_example_script_runs_a_whole_case_into_a_signed_valid_provider_folder(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "psirt"
    env = {**os.environ, "ZW": f"{sys.executable} -m zonewarden.cli.main", "ZONEWARDEN_SHARED_DATA": str(shared_data),
           "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "psirt-example.sh"), str(out)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    csaf_dir = out / "provider" / ".well-known" / "csaf"
    meta = json.loads((csaf_dir / "provider-metadata.json").read_text())
    assert provider_metadata_deviations(meta) == []
    assert meta["role"] == "csaf_trusted_provider"
    doc_path = csaf_dir / "white" / (out / "provider").joinpath(".well-known/csaf/white/index.txt").read_text().strip()
    data = doc_path.read_bytes()
    assert read_csaf(data, source=str(doc_path), strict=True).accepted
    with SignatureVerifier((out / "keys" / "public-key.asc").read_bytes()) as verifier:
        assert verifier.verify(data, doc_path.with_name(doc_path.name + ".asc").read_bytes()) is None
    doc = json.loads(data)
    assert doc["vulnerabilities"][0]["cve"] == "CVE-2026-49001"
    assert "DT_COORD_PUBLISH" in done.stderr
    assert "rita@research.example" not in data.decode()
    # The reporter reads the encrypted answer with their own key (a keyring of their own here).
    home = tmp_path / "rep"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--batch", "--homedir", str(home), "--pinentry-mode", "loopback", "--passphrase", ""]
    try:
        subprocess.run([*gpg, "--import", str(out / "keys" / "reporter-secret-key.asc")], check=True, capture_output=True)
        plain = subprocess.run([*gpg, "--decrypt", str(out / "answer.asc")], check=True, capture_output=True).stdout
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, check=False)
    assert plain == (out / "answer.txt").read_bytes()
    ack = json.loads((out / "acknowledgement.json").read_text())
    assert ack["encryption_key_fingerprint"] and ack["encryption_key_fingerprint"] in done.stderr
