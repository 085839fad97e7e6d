"""Team use from the command line: accounts, login, roles enforced in the services, read-only
tokens, electronic signatures, and the audit trail naming the authenticated user."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from zonewarden.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pharma-plant"
PASSWORDS = {"admin": "correct horse battery", "eve": "engineer's long pass", "quinn": "quality signs here",
             "vic": "viewer only please"}


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZONEWARDEN_DB", str(tmp_path / "zw.db"))
    monkeypatch.setenv("ZONEWARDEN_TOKEN_FILE", str(tmp_path / "cfg" / "token"))
    monkeypatch.delenv("ZONEWARDEN_TOKEN", raising=False)
    return tmp_path


def run(*args: str, stdin: str | None = None, token: str | None = None) -> tuple[int, str, str]:
    env = {"ZONEWARDEN_TOKEN": token} if token else {}
    result = CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _token(user: str, *extra: str) -> str:
    """Log in as ``user`` and return a fresh token for them (made by the admin)."""
    code, out, err = run("token", "create", "--user", user, *extra, token=_ADMIN[0])
    assert code == 0, err
    return out.strip()


_ADMIN: list[str] = []


@pytest.fixture()
def team(env: Path) -> Path:
    """The example plant, then accounts: admin (bootstrap), an engineer, a quality approver
    linked to person p-hkessler, a viewer."""
    assert run("import", str(EXAMPLE))[0] == 0  # single-user mode: no login needed
    code, _, err = run("user", "add", "admin", "--full-name", "Ada Admin", "--password-stdin",
                       stdin=PASSWORDS["admin"] + "\n")
    assert code == 0 and "administrator of every site" in err, err
    code, _, err = run("login", "admin", "--password-stdin", stdin=PASSWORDS["admin"] + "\n")
    assert code == 0, err
    token_path = env / "cfg" / "token"
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    _ADMIN[:] = [token_path.read_text().strip()]
    for name, full in (("eve", "Eve Engineer"), ("quinn", "Quinn Quality"), ("vic", "Vic Viewer")):
        assert run("user", "add", name, "--full-name", full, "--password-stdin", stdin=PASSWORDS[name] + "\n")[0] == 0
    assert run("role", "grant", "eve", "engineer", "--site", "rheinfeld-os")[0] == 0
    assert run("role", "grant", "quinn", "quality", "--site", "rheinfeld-os")[0] == 0
    assert run("role", "grant", "vic", "viewer", "--site", "rheinfeld-os")[0] == 0
    assert run("user", "link", "quinn", "p-hkessler", "--site", "rheinfeld-os")[0] == 0
    return env


def test_without_accounts_nothing_asks_for_a_login(env: Path) -> None:
    assert run("import", str(EXAMPLE))[0] == 0
    code, out, _ = run("whoami", "--format", "json")
    assert code == 0 and json.loads(out)[0]["single_user"] is True
    code, out, _ = run("sites")
    assert code == 0 and "rheinfeld" in out


def test_once_accounts_exist_every_command_needs_a_credential(team: Path) -> None:
    (team / "cfg" / "token").unlink()
    code, _, err = run("sites")
    assert code == 2 and "zonewarden login" in err
    code, _, err = run("login", "admin", "--password-stdin", stdin="wrong password!!\n")
    code2, _, err2 = run("login", "nobody", "--password-stdin", stdin="wrong password!!\n")
    assert code == code2 == 2 and err == err2  # a wrong password and an unknown user look alike


def test_roles_are_enforced_and_denials_audited(team: Path) -> None:
    status = ("requirement", "set", "ent", "SR 1.1", "partial", "--justification", "MFA for vendors only so far")
    code, _, err = run(*status, token=_token("vic"))
    assert code == 2 and "requirement.set on site rheinfeld-os needs one of the roles" in err and "engineer" in err
    code, _, err = run(*status, token=_token("eve"))
    assert code == 0, err
    code, out, _ = run("audit", "log", "--site", "rheinfeld-os", "--format", "json")
    events = json.loads(out)
    denied = [e for e in events if e["action"] == "access.denied"]
    assert denied and denied[-1]["actor"] == "vic" and denied[-1]["after"]["operation"] == "requirement.set"
    (change,) = [e for e in events if e["action"] == "requirement.set-status"]
    assert change["actor"] == "eve"  # the authenticated user, not the OS user
    # A viewer may read; a user without a role on the site does not even see it.
    assert run("gap", "--format", "json", token=_token("vic"))[0] in (0, 1)
    run("user", "add", "stranger", "--full-name", "S Tranger", "--password-stdin", stdin="stranger's password\n")
    code, _, err = run("gap", "--site", "rheinfeld-os", token=_token("stranger"))
    assert code == 2 and "no site 'rheinfeld-os' in the database (sites: none that you hold a role on)" in err


def test_a_read_only_token_reads_but_never_writes(team: Path) -> None:
    ro = _token("eve", "--read-only")
    assert ro.startswith("zw_") and "\n" not in ro  # the token alone on stdout
    assert run("sites", token=ro)[0] == 0
    code, _, err = run("requirement", "set", "ent", "SR 1.1", "implemented", token=ro)
    assert code == 2 and "read-only" in err
    code, out, _ = run("token", "list", "--user", "eve", "--format", "json")
    assert all("token" not in row for row in json.loads(out))  # never the secret


def test_an_approval_is_an_electronic_signature_that_breaks_when_the_record_changes(team: Path) -> None:
    eve = _token("eve")
    control = team / "cc.yaml"
    control.write_text(
        "id: CC-TEST-1\ntitle: Vendor jump host\ndescription: vendor access only through the jump host with MFA\n"
        "covers: [SR 1.1]\nzones: [ent]\nrationale: legacy-os\nowner: p-jweber\nreview: 2027-06-30\nexpires: 2027-12-31\n"
    )
    code, _, err = run("compensation", "record", str(control), token=eve)
    assert code == 0, err
    quinn = _token("quinn")
    # Signing as somebody else is refused; a wrong password is refused; nothing is written.
    code, _, err = run("compensation", "approve", "CC-TEST-1", "--approver", "p-mbrandt", "--password-stdin",
                       stdin=PASSWORDS["quinn"] + "\n", token=quinn)
    assert code == 2 and "signs as p-hkessler" in err
    code, _, err = run("compensation", "approve", "CC-TEST-1", "--password-stdin", stdin="not my password\n",
                       token=quinn)
    assert code == 2 and "authentication failed" in err
    code, _, err = run("compensation", "approve", "CC-TEST-1", "--password-stdin", "--meaning", "approved as quality",
                       stdin=PASSWORDS["quinn"] + "\n", token=quinn)
    assert code == 0 and "signed by Quinn Quality" in err, err
    code, out, _ = run("signatures", "--object", "CC-TEST-1", "--format", "json", token=quinn)
    assert code == 0
    (sig,) = json.loads(out)["signatures"]
    assert (sig["signer"], sig["full_name"], sig["meaning"], sig["status"]) == (
        "quinn", "Quinn Quality", "approved as quality", "valid")
    assert sig["signed_at"].endswith("+00:00") and sig["signed_at_local"][-6:] in ("+01:00", "+02:00")
    # An engineer cannot type an approval into a record: approving is signing.
    forged = team / "forged.yaml"
    forged.write_text(control.read_text().replace("CC-TEST-1", "CC-TEST-2") + "approver: p-hkessler\n"
                      "approved: 2026-11-30\n")
    code, _, err = run("compensation", "record", str(forged), token=eve)
    assert code == 2 and "the approver signs it with `zonewarden compensation approve`" in err
    # An engineer edits the signed record afterwards: the signature no longer matches.
    control.write_text(control.read_text().replace("2027-12-31", "2028-12-31"))
    assert run("compensation", "record", str(control), token=eve)[0] == 0
    code, out, _ = run("signatures", "--object", "CC-TEST-1", "--format", "json", token=quinn)
    assert code == 1 and json.loads(out)["signatures"][0]["status"] == "no longer matches"


def test_token_file_is_private_and_logout_revokes_it(team: Path) -> None:
    token = (team / "cfg" / "token").read_text().strip()
    code, _, err = run("logout")
    assert code == 0 and not (team / "cfg" / "token").exists()
    code, _, err = run("sites", token=token)
    assert code == 2 and "authentication failed" in err
