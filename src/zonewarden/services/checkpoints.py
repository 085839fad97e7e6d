"""Signed checkpoints of the audit chain, kept outside the database (issue 12 §8).

The hash chain (:mod:`zonewarden.services.audit`) detects an edit of one event, but someone with
write access to the database can rewrite the whole chain and its head consistently. A checkpoint
pins the head hash and event count at a moment, signed with an HMAC-SHA256 key kept outside the
database, and written as a canonical JSON file into a folder the user names. :func:`verify`
recomputes the chain and compares the event at the checkpoint's seq with the pinned hash: a
rewrite before the checkpoint, a truncation, a tampered file or a wrong key are all reported.

The checkpoint is also recorded as an audit event (``audit.checkpoint``) for the record; that
event is not trusted by verification, the file and the key are.
OpenPGP signatures are not offered: no maintained OpenPGP library is installed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, select

from zonewarden.errors import InputError
from zonewarden.services import audit
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.tables import audit_events

FORMAT = "zonewarden-audit-checkpoint/1"
KEY_BYTES = 32


def keygen(path: Path) -> None:
    """Write a new random HMAC key (hex) to ``path`` with mode 0600; refuse to overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{path}: already exists; refusing to overwrite a key (choose another file)") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(KEY_BYTES) + "\n")


def load_key(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the checkpoint key ({exc.strerror})") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise InputError(f"{path}: not a checkpoint key (expected hex written by `zonewarden audit keygen`)") from None
    if len(key) < 16:
        raise InputError(f"{path}: the key is too short ({len(key)} bytes, need at least 16)")
    return key


def key_id(key: bytes) -> str:
    """A fingerprint of the key (not the key), so a checkpoint names the key it needs."""
    return hashlib.sha256(b"zonewarden-checkpoint-key\n" + key).hexdigest()[:16]


def _canonical(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def _sign(key: bytes, body: dict[str, Any]) -> str:
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def database_identity(conn: Connection) -> str:
    from zonewarden.store.db import display_url

    return display_url(conn.engine.url)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    head_hash: str
    at: str
    database: str | None
    key_id: str
    signature: str

    def body(self) -> dict[str, Any]:
        return {"format": FORMAT, "seq": self.seq, "head_hash": self.head_hash, "at": self.at,
                "database": self.database, "key_id": self.key_id}

    def to_bytes(self) -> bytes:
        return _canonical({**self.body(), "signature": self.signature}) + b"\n"

    @property
    def filename(self) -> str:
        return f"checkpoint-{self.seq:012d}-{self.head_hash[:12]}.json"


def make(conn: Connection, key: bytes, *, at: dt.datetime | None = None) -> Checkpoint:
    """Checkpoint the current chain head (verified first: a broken chain is not pinned)."""
    result = audit.verify(conn)
    if not result.ok:
        raise audit_chain_error(result)
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned = Checkpoint(result.events, result.head_hash, when, database_identity(conn), key_id(key), "")
    return Checkpoint(unsigned.seq, unsigned.head_hash, when, unsigned.database, unsigned.key_id,
                      _sign(key, unsigned.body()))


def audit_chain_error(result: audit.VerifyResult) -> Exception:
    from zonewarden.errors import AuditChainError

    first = result.problems[0]
    return AuditChainError(f"the audit chain is broken (event {first.seq}: {first.message}); run `zonewarden audit verify`")


def write(out_dir: Path, cp: Checkpoint) -> tuple[Path, bool]:
    """Write the checkpoint file into ``out_dir``; returns (path, written). Idempotent: when the
    newest checkpoint there already pins the same seq and hash, nothing new is written."""
    from zonewarden.io.atomic import make_dir, write_atomic

    make_dir(out_dir)
    for existing in out_dir.glob(f"checkpoint-{cp.seq:012d}-{cp.head_hash[:12]}.json"):
        return existing, False
    path = out_dir / cp.filename
    write_atomic(path, cp.to_bytes())  # a fresh temporary name, never a planted <name>.tmp
    return path, True


def newest(out_dir: Path) -> Path | None:
    files = sorted(out_dir.glob("checkpoint-*.json"))
    return files[-1] if files else None


def read(path: Path) -> Checkpoint:
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the checkpoint ({exc.strerror})") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: /format: not a zonewarden audit checkpoint (expected {FORMAT!r})")
    for field, kind in (("seq", int), ("head_hash", str), ("at", str), ("key_id", str), ("signature", str)):
        if not isinstance(data.get(field), kind):
            raise InputError(f"{path}: /{field}: missing or not a {kind.__name__}")
    db = data.get("database")
    return Checkpoint(data["seq"], data["head_hash"], data["at"], db if isinstance(db, str) else None,
                      data["key_id"], data["signature"])


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    checkpoint: Checkpoint
    events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection, cp: Checkpoint, key: bytes) -> CheckpointResult:
    """Check the signature, then that the log still holds the checkpointed event unchanged and
    the chain up to it (and after it) recomputes."""
    problems: list[str] = []
    if cp.key_id != key_id(key):
        problems.append(f"the checkpoint was signed with another key (key id {cp.key_id}, this key is {key_id(key)})")
    elif not hmac.compare_digest(cp.signature, _sign(key, cp.body())):
        problems.append("bad signature: the checkpoint file was altered after it was signed")
    if problems:
        return CheckpointResult(cp, 0, tuple(problems))
    chain = audit.verify(conn)
    problems.extend(f"event {p.seq}: {p.message}" for p in chain.problems)
    if chain.events < cp.seq:
        problems.append(f"the log has {chain.events} events, fewer than the {cp.seq} the checkpoint pins "
                        "(events were deleted)")
    elif cp.seq:
        row = conn.execute(select(audit_events.c.hash).where(audit_events.c.seq == cp.seq)).first()
        if row is None:
            problems.append(f"event {cp.seq}: missing (the checkpoint pins it)")
        elif row.hash != cp.head_hash:
            problems.append(f"event {cp.seq}: its hash differs from the checkpoint's "
                            "(the log was rewritten at or before this event)")
    return CheckpointResult(cp, chain.events, tuple(problems))


def checkpoint(conn: Connection, key: bytes, out_dir: Path, *, principal: Principal) -> tuple[Path, bool]:
    """Record an ``audit.checkpoint`` event, then pin the head (which is that event) in a signed
    file in ``out_dir``; inside the caller's transaction. Idempotent: when the newest event is a
    checkpoint already written to ``out_dir``, nothing changes and (path, False) is returned."""
    last = conn.execute(select(audit_events.c.seq, audit_events.c.hash, audit_events.c.action)
                        .order_by(audit_events.c.seq.desc()).limit(1)).first()
    if last is not None and last.action == "audit.checkpoint":
        existing = list(out_dir.glob(f"checkpoint-{last.seq:012d}-{last.hash[:12]}.json"))
        if existing:
            return existing[0], False
    audit.append(conn, action="audit.checkpoint", actor=principal.user_id, context=principal.audit_context,
                 object_type="checkpoint",
                 object_id=str(out_dir), after={"key_id": key_id(key), "out": str(out_dir)})
    return write(out_dir, make(conn, key))


def write_checkpoint(store: Store, key: bytes, out_dir: Path, *, principal: Principal) -> tuple[Path, bool]:
    """:func:`checkpoint` in its own transaction, for an administrator (``audit.checkpoint``:
    it appends to the trail every site shares)."""
    from zonewarden.services import identity

    identity.authorize(store, principal, "audit.checkpoint")
    with store.transaction() as conn:
        return checkpoint(conn, key, out_dir, principal=principal)


def verify_file(store: Store, checkpoint_file: Path, key: bytes, *, principal: Principal) -> CheckpointResult:
    """:func:`verify` of a checkpoint file, for whoever may verify the chain
    (:func:`zonewarden.services.audit_queries.require_chain_reader`)."""
    from zonewarden.services.audit_queries import require_chain_reader

    require_chain_reader(store, principal)
    cp = read(checkpoint_file)
    with store.read() as conn:
        return verify(conn, cp, key)
