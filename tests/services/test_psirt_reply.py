"""Encrypted answers to the reporter: the key checked at intake (fingerprint in the
acknowledgement), the answer encrypted to it in a throw-away keyring and decrypted here with the
reporter's private key, the communication recorded and audited without its text, and the refusals
(no key, revoked, expired, sign-only, secret key, not a key, outside the embargo)."""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from zonewarden.clock import now_utc
from zonewarden.domain import psirt as d
from zonewarden.errors import ConflictError, InputError, PermissionDenied
from zonewarden.services import audit, psirt, psirt_reply
from zonewarden.services.principal import ANY_SITE, Principal

pytestmark = pytest.mark.skipif(shutil.which("gpg") is None, reason="needs the gpg program (Debian package gnupg)")

ANA = Principal(user_id="ana", method="token", roles={ANY_SITE: frozenset({"psirt-analyst"})})
BOB = Principal(user_id="bob", method="token", roles={ANY_SITE: frozenset({"psirt-analyst"})})
SECRET_WORDS = "REPLY-CANARY-7f3: the fix ships in V3.0.1 on 15 January"


class ReporterKeys:
    """The reporter's own keyring in a tmp home (never the user's)."""

    def __init__(self, *, encrypt: bool = True, expires: str = "1y") -> None:
        self.home = tempfile.mkdtemp(prefix="zwr-")  # short: gpg-agent's socket path
        self.run("--quick-gen-key", "Rita Reporter <rita@example.org>", "ed25519", "sign", expires)
        self.fingerprint = self.run("--list-keys", "--with-colons").decode().split("\nfpr:::::::::")[1].split(":")[0]
        if encrypt:
            self.run("--quick-add-key", self.fingerprint, "cv25519", "encr", expires)

    def run(self, *args: str, data: bytes | None = None) -> bytes:
        return subprocess.run(["gpg", "--batch", "--homedir", self.home, "--pinentry-mode", "loopback",
                               "--passphrase", "", *args], input=data, capture_output=True, check=True).stdout

    @property
    def public(self) -> str:
        return self.run("--armor", "--export", self.fingerprint).decode()

    @property
    def secret(self) -> str:
        return self.run("--armor", "--export-secret-keys", self.fingerprint).decode()

    def revoke(self) -> None:
        [cert] = glob.glob(f"{self.home}/openpgp-revocs.d/*.rev")
        self.run("--import", data=Path(cert).read_bytes().replace(b":-----BEGIN", b"-----BEGIN"))

    def decrypt(self, armoured: bytes) -> bytes:
        return self.run("--decrypt", data=armoured)

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", self.home, "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture()
def rita() -> Iterator[ReporterKeys]:
    keys = ReporterKeys()
    yield keys
    keys.close()


def _report(key: str | None) -> d.Report:
    reporter: dict[str, object] = {"name": "Rita Reporter", "contact": "rita@example.org"}
    if key is not None:
        reporter["encryption_key"] = key
    return psirt.parse_report(json.dumps({
        "reporter": reporter, "product": "FlowCtl PLC", "version": "2.0",
        "title": "Unauthenticated config write", "description": "POST /cfg without a session"}).encode(), source="r.json")


def test_answer_is_encrypted_to_the_reporters_key_recorded_and_audited_without_its_text(store, rita) -> None:  # type: ignore[no-untyped-def]
    got = psirt.intake(store, _report(rita.public), principal=ANA)
    assert got.key is not None and got.key.fingerprint == rita.fingerprint
    assert got.as_dict()["encryption_key_fingerprint"] == rita.fingerprint
    assert rita.fingerprint in got.encryption  # the acknowledgement shows which key answers go to
    ref = got.reference
    psirt.acknowledge(store, ref, principal=ANA)

    answer = psirt_reply.reply(store, ref, SECRET_WORDS.encode(), principal=ANA)
    assert answer.armoured is not None and answer.armoured.startswith(b"-----BEGIN PGP MESSAGE-----")
    assert SECRET_WORDS.encode() not in answer.armoured
    assert rita.decrypt(answer.armoured) == SECRET_WORDS.encode()  # the reporter reads it with their key

    case = psirt.load_case(store, ref, principal=ANA)
    [comm] = case.communications
    assert comm.channel == "openpgp" and comm.by == "ana" and comm.fingerprint == rita.fingerprint
    assert comm.ciphertext_sha256 == hashlib.sha256(answer.armoured).hexdigest()
    assert comm.message_sha256 == hashlib.sha256(SECRET_WORDS.encode()).hexdigest()
    assert comm.text is None  # the default policy keeps no reply texts
    assert SECRET_WORDS not in json.dumps(psirt.show_case(store, ref, principal=ANA))
    with store.read() as conn:
        events = [e for e in audit.events(conn) if e.object_id == ref]
        assert audit.verify(conn).ok
    last = events[-1]
    assert last.action == "psirt.reply" and last.actor == "ana"
    assert last.after["fingerprint"] == rita.fingerprint
    assert last.after["ciphertext_sha256"] == comm.ciphertext_sha256
    assert "REPLY-CANARY" not in json.dumps([e.after for e in events])
    assert last.after["case_digest"] == psirt.case_digest(case)


def test_the_policy_may_keep_the_reply_text_inside_the_case(store, rita) -> None:  # type: ignore[no-untyped-def]
    psirt.set_policy(store, d.DisclosurePolicy(keep_reply_text=True),
                     principal=Principal(user_id="mgr", method="token", roles={ANY_SITE: frozenset({"psirt-manager"})}))
    ref = psirt.intake(store, _report(rita.public), principal=ANA).reference
    psirt_reply.reply(store, ref, SECRET_WORDS.encode(), principal=ANA)
    [comm] = psirt.load_case(store, ref, principal=ANA).communications
    assert comm.text == SECRET_WORDS
    with store.read() as conn:
        assert "REPLY-CANARY" not in json.dumps([e.after for e in audit.events(conn)])  # never in the trail


def test_without_a_key_the_answer_goes_in_clear_and_only_that_is_recorded(store, rita) -> None:  # type: ignore[no-untyped-def]
    got = psirt.intake(store, _report(None), principal=ANA)
    assert got.key is None and "in clear" in got.encryption
    with pytest.raises(ConflictError, match="no encryption key.*--clear"):
        psirt_reply.reply(store, got.reference, b"thanks", principal=ANA)
    assert psirt.load_case(store, got.reference, principal=ANA).communications == ()
    clear = psirt_reply.reply(store, got.reference, b"thanks", principal=ANA, clear=True)
    assert clear.armoured is None and clear.communication.channel == "clear"
    assert clear.communication.fingerprint is None and clear.communication.ciphertext_sha256 is None
    keyed = psirt.intake(store, _report(rita.public), principal=ANA).reference
    with pytest.raises(ConflictError, match="sent an encryption key"):
        psirt_reply.reply(store, keyed, b"thanks", principal=ANA, clear=True)


def test_unusable_keys_are_refused_at_intake_with_their_json_pointer(store) -> None:  # type: ignore[no-untyped-def]
    sign_only = ReporterKeys(encrypt=False)
    revoked = ReporterKeys()
    try:
        with pytest.raises(InputError, match=r"cannot encrypt.*/reporter/encryption_key"):
            psirt.intake(store, _report(sign_only.public), principal=ANA)
        revoked.revoke()
        with pytest.raises(InputError, match=r"revoked.*/reporter/encryption_key"):
            psirt.intake(store, _report(revoked.public), principal=ANA)
        with pytest.raises(InputError, match="secret key"):
            psirt.intake(store, _report(revoked.secret), principal=ANA)
        with pytest.raises(InputError, match="not an armoured OpenPGP public key"):
            psirt.intake(store, _report("<script>alert(1)</script>"), principal=ANA)
        broken = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"
        with pytest.raises(InputError, match="no usable public key"):
            psirt.intake(store, _report(broken), principal=ANA)
        assert psirt.list_cases(store, principal=ANA) == []  # nothing was recorded
        with pytest.raises(InputError, match="/reporter/encryption_key"):  # the unauthenticated intake too
            psirt.submit_report(store, json.dumps({
                "reporter": {"contact": "r@example.org", "encryption_key": sign_only.public},
                "product": "P", "title": "T", "description": "D"}).encode(), client="203.0.113.9")
    finally:
        sign_only.close()
        revoked.close()


def test_a_key_that_expired_since_intake_is_refused_before_answering(store) -> None:  # type: ignore[no-untyped-def]
    short = ReporterKeys(expires="2d")
    try:
        now = now_utc()
        got = psirt.intake(store, _report(short.public), principal=ANA, now=now)
        assert got.key is not None and got.key.expires is not None and got.key.expires > now
        with pytest.raises(InputError, match="expired"):
            psirt_reply.reply(store, got.reference, b"late answer", principal=ANA, now=now + dt.timedelta(days=3))
        with pytest.raises(InputError, match=r"expired.*/reporter/encryption_key"):
            psirt.intake(store, _report(short.public), principal=ANA, now=now + dt.timedelta(days=3))
        assert psirt.load_case(store, got.reference, principal=ANA).communications == ()
    finally:
        short.close()


def test_only_people_inside_the_embargo_answer_and_bad_messages_are_refused(store, rita) -> None:  # type: ignore[no-untyped-def]
    ref = psirt.intake(store, _report(rita.public), principal=ANA).reference
    psirt.acknowledge(store, ref, principal=ANA)
    psirt.set_embargo(store, ref, now_utc() + dt.timedelta(days=30), principal=ANA)
    with pytest.raises(PermissionDenied, match="under embargo"):
        psirt_reply.reply(store, ref, b"hello", principal=BOB)
    with pytest.raises(InputError, match="UTF-8"):
        psirt_reply.reply(store, ref, b"\xff\xfe", principal=ANA)
    with pytest.raises(InputError, match="at most"):
        psirt_reply.reply(store, ref, b"x" * (psirt_reply.MAX_REPLY_CHARS + 1), principal=ANA)
    with pytest.raises(InputError, match="empty"):
        psirt_reply.reply(store, ref, b"  \n", principal=ANA)
    assert psirt.load_case(store, ref, principal=ANA).communications == ()


def test_a_new_key_replaces_an_expired_one_and_removing_it_allows_an_answer_in_clear(store, rita) -> None:  # type: ignore[no-untyped-def]
    short = ReporterKeys(expires="2d")
    try:
        now = now_utc()
        ref = psirt.intake(store, _report(short.public), principal=ANA, now=now).reference
        later = now + dt.timedelta(days=3)
        with pytest.raises(ConflictError, match="sent an encryption key"):  # no silent fallback to clear
            psirt_reply.reply(store, ref, b"hi", principal=ANA, clear=True, now=later)
        with pytest.raises(InputError, match="expired"):  # the same expired key again is no fix
            psirt_reply.set_reporter_key(store, ref, short.public, principal=ANA, now=later)
        with pytest.raises(PermissionDenied):
            psirt_reply.set_reporter_key(store, ref, rita.public, principal=Principal(
                user_id="vic", method="token", roles={"s1": frozenset({"viewer"})}))
        case = psirt_reply.set_reporter_key(store, ref, rita.public, principal=ANA)
        assert case.reporter_key is not None and case.reporter_key.fingerprint == rita.fingerprint
        answer = psirt_reply.reply(store, ref, b"new key, new answer", principal=ANA)
        assert answer.armoured is not None and rita.decrypt(answer.armoured) == b"new key, new answer"
        removed = psirt_reply.set_reporter_key(store, ref, None, principal=ANA)
        assert removed.reporter_key is None and removed.report.reporter.encryption_key is None
        assert psirt_reply.reply(store, ref, b"in clear now", principal=ANA, clear=True).communication.channel == "clear"
        with store.read() as conn:
            keyed = [e.after for e in audit.events(conn) if e.object_id == ref and e.action == "psirt.reporter_key"]
        assert [k["fingerprint"] for k in keyed] == [rita.fingerprint, None]
    finally:
        short.close()
