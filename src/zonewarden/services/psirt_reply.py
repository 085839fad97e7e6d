"""Answering the reporter of a PSIRT case, encrypted to the key they sent (issue 16).

:func:`reply` encrypts a message to the reporter's OpenPGP public key (the ``encryption_key`` of
the report, checked again now: one public key, not revoked, not expired, able to encrypt) in a
throw-away GnuPG home (``services.psirt_gpg``), records the outgoing communication on the case
and returns the ASCII-armoured message for the caller to send. A case whose reporter gave no key
is answered through the contact channel in clear: :func:`reply` refuses to pretend otherwise and
records such an answer only when asked to (``clear=True``).

What is recorded (``Case.communications``, and one ``psirt.reply`` audit event): when, by whom,
the channel, the key fingerprint, the sha256 of the ciphertext (what was sent) and of the
message, its size. The message text itself only when the disclosure policy says
``keep_reply_text: true``: an answer to a reporter usually repeats the vulnerability's details,
and the author keeps the message file anyway; the audit event never carries it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from zonewarden.clock import now_utc
from zonewarden.domain import psirt as d
from zonewarden.errors import ConflictError, InputError
from zonewarden.services import psirt as cases
from zonewarden.services import psirt_gpg
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store

MAX_REPLY_CHARS = 20_000
"""Longest answer, in characters (what a case keeps of a free text)."""
MAX_KEY_CHARS = 64_000
"""Longest armoured key, as at intake (``Reporter.encryption_key``)."""


@dataclass(frozen=True, slots=True)
class Reply:
    reference: str
    communication: d.Communication
    armoured: bytes | None
    """The ASCII-armoured OpenPGP message to send; None for an answer sent in clear."""

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "communication": self.communication.model_dump(mode="json"),
                "armoured": self.armoured.decode("ascii") if self.armoured is not None else None}


def _text(message: bytes, source: str) -> str:
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: an answer is UTF-8 text (byte {exc.start} is not); send files as attachments "
                         "of your mail client instead") from None
    if not text.strip():
        raise InputError(f"{source}: the answer is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise InputError(f"{source}: the answer has {len(text)} characters; at most {MAX_REPLY_CHARS}")
    return text


def reply(store: Store, reference: str, message: bytes, *, principal: Principal, clear: bool = False,
          source: str = "message", now: dt.datetime | None = None, expected: str | None = None) -> Reply:
    """Encrypt ``message`` to the reporter of case ``reference`` and record it (``clear``: record
    an answer sent unencrypted through the contact channel, for a reporter without a key)."""
    text = _text(message, source)
    now = now or now_utc()
    keep = cases.policy(store).keep_reply_text
    out: dict[str, bytes] = {}

    def change(case: d.Case, at: dt.datetime) -> d.Case:
        armoured_key = case.report.reporter.encryption_key
        update: dict[str, Any] = {}
        if clear:
            if armoured_key:
                raise ConflictError(f"case {reference}: the reporter sent an encryption key; answer encrypted "
                                    "(psirt reply without --clear)")
            comm = d.Communication(at=at, by=principal.user_id, channel="clear",
                                   message_sha256=hashlib.sha256(message).hexdigest(), message_bytes=len(message),
                                   text=text if keep else None)
        else:
            if not armoured_key:
                raise ConflictError(
                    f"case {reference}: the reporter sent no encryption key, so the answer cannot be encrypted; "
                    f"send it through the contact channel in clear and record that with "
                    f"`zonewarden psirt reply {reference} --file MESSAGE --clear`")
            ciphertext, info = psirt_gpg.encrypt(armoured_key, message, at,
                                                 source=f"case {reference}: the reporter's encryption key")
            out["armoured"] = ciphertext
            comm = d.Communication(at=at, by=principal.user_id, channel="openpgp", fingerprint=info.fingerprint,
                                   ciphertext_sha256=hashlib.sha256(ciphertext).hexdigest(),
                                   message_sha256=hashlib.sha256(message).hexdigest(), message_bytes=len(message),
                                   text=text if keep else None)
            if case.reporter_key is None or case.reporter_key.fingerprint != info.fingerprint:
                update["reporter_key"] = d.ReporterKey(fingerprint=info.fingerprint, expires=info.expires,
                                                       checked_at=at)
        facts.update({"channel": comm.channel, "fingerprint": comm.fingerprint,
                      "ciphertext_sha256": comm.ciphertext_sha256, "message_bytes": comm.message_bytes,
                      "text_kept": keep})
        return case.model_copy(update={**update, "communications": (*case.communications, comm)})

    facts: dict[str, Any] = {}
    new = cases._step(store, reference, principal=principal, action="psirt.reply", change=change, facts=facts,
                      now=now, expected=expected)
    return Reply(reference, new.communications[-1], out.get("armoured"))


def set_reporter_key(store: Store, reference: str, armoured: str | None, *, principal: Principal,
                     now: dt.datetime | None = None, expected: str | None = None) -> d.Case:
    """Replace the reporter's encryption key (they sent a new one: the old one expired or was
    revoked), checked as at intake; ``None`` removes it, so that answers go in clear."""
    from zonewarden.services import identity

    identity.authorize(store, principal, "psirt.write")  # before any gpg runs
    now = now or now_utc()
    if armoured is not None and len(armoured) > MAX_KEY_CHARS:
        raise InputError(f"the key has {len(armoured)} characters; at most {MAX_KEY_CHARS} (one public key)")
    info = psirt_gpg.check_public_key(armoured, now, source="the key") if armoured is not None else None

    def change(case: d.Case, at: dt.datetime) -> d.Case:
        reporter = case.report.reporter.model_copy(update={"encryption_key": armoured})
        report = case.report.model_copy(update={"reporter": reporter})
        key = d.ReporterKey(fingerprint=info.fingerprint, expires=info.expires, checked_at=at) if info else None
        return case.model_copy(update={"report": report, "reporter_key": key})

    return cases._step(store, reference, principal=principal, action="psirt.reporter_key", change=change,
                       facts={"fingerprint": info.fingerprint if info else None}, now=now, expected=expected)
