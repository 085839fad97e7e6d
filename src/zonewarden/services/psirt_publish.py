"""Publishing a PSIRT case as CSAF 2.0 into a provider folder (issue 16, parts 3 and 4).

``publish``: build the advisory from the case (``io.csaf.author``), run the project's strict
CSAF reader on the exact bytes to be published (schema and every mandatory test; any deviation
refuses with the test id and JSON pointer), sign it with the user's OpenPGP key, and only then
record the revision, move the case to ``published`` (one transaction, one audit event) and
write the provider folder (``io.csaf.author_provider``) again from every published advisory.

A revision of a published advisory keeps its tracking id: version n+1 carries the n earlier
revisions in its history. The folder can be rebuilt from the database at any time
(:func:`write_folder`).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from zonewarden.clock import now_utc
from zonewarden.domain import psirt as d
from zonewarden.errors import ConflictError, InputError, PermissionDenied
from zonewarden.io.atomic import make_dir, write_atomic
from zonewarden.io.csaf import read_csaf
from zonewarden.io.csaf.author import Revision, build_advisory, file_name
from zonewarden.io.csaf.author_provider import (
    WELL_KNOWN,
    Published,
    advisory_bytes,
    provider_files,
    provider_metadata_deviations,
)
from zonewarden.io.csaf.model import Deviation
from zonewarden.services import access, audit
from zonewarden.services import psirt as cases
from zonewarden.services.principal import Principal
from zonewarden.services.psirt_gpg import Keyring
from zonewarden.store.db import Store
from zonewarden.store.psirt_tables import psirt_advisories

PASSPHRASE_ENV = "ZONEWARDEN_SIGNING_PASSPHRASE"


class Signer:
    """Detached armoured OpenPGP signatures with the user's secret key, in a throw-away
    keyring (:class:`~zonewarden.services.psirt_gpg.Keyring`: the user's own keyring is never
    read or changed). A context manager."""

    def __init__(self, secret_key: bytes, *, passphrase: str | None = None, source: str = "--signing-key") -> None:
        self._ring = Keyring(purpose="signing")
        self._gpg = self._ring.gpg
        self._passphrase = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_ENV, "")
        result = self._gpg.import_keys(secret_key)
        secrets = self._gpg.list_keys(secret=True)
        if not result.fingerprints or not secrets:
            self.close()
            raise InputError(f"{source}: no OpenPGP secret key found (export it with gpg --armor --export-secret-keys)")
        self.fingerprint = str(secrets[0]["fingerprint"]).upper()
        self.public_key = self._gpg.export_keys(self.fingerprint).encode()

    def sign(self, data: bytes) -> bytes:
        # No passphrase at all for a key without one: python-gnupg would otherwise send an empty
        # line on stdin that gpg never reads, and sign it as part of the data.
        signed = self._gpg.sign(data, keyid=self.fingerprint, detach=True, passphrase=self._passphrase or None,
                                extra_args=["--pinentry-mode", "loopback"])
        if not signed.data:
            raise InputError(f"signing failed ({signed.status or 'no signature'}): wrong passphrase in {PASSPHRASE_ENV}?")
        return bytes(signed.data)

    def close(self) -> None:
        self._ring.close()

    def __enter__(self) -> Signer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class PublishResult:
    reference: str
    tracking_id: str
    version: int
    path: str
    """The advisory's path below the folder."""
    files: int
    notes: tuple[str, ...] = ()
    """What was not checked (e.g. the provider schema was not available)."""

    def as_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "tracking_id": self.tracking_id, "version": self.version,
                "path": self.path, "files": self.files, "notes": list(self.notes)}


def tracking_id_of(case: d.Case) -> str:
    return case.reference


def _self_url(base_url: str, case: d.Case, tracking_id: str, year: int) -> str:
    return f"{base_url.rstrip('/')}/{WELL_KNOWN}/{case.tlp.lower()}/{year}/{file_name(tracking_id)}"


def _history(conn: Connection, tracking_id: str) -> list[Revision]:
    rows = conn.execute(select(psirt_advisories.c.document).where(psirt_advisories.c.tracking_id == tracking_id)
                        .order_by(psirt_advisories.c.version.desc())).first()
    if rows is None:
        return []
    hist = rows.document["document"]["tracking"]["revision_history"]
    return [Revision(dt.datetime.fromisoformat(h["date"].replace("Z", "+00:00")), h["number"], h["summary"]) for h in hist]


def strict_problems(document: dict[str, Any], *, source: str) -> list[Deviation]:
    """Every deviation the strict reader finds in the bytes that would be published."""
    result = read_csaf(advisory_bytes(document), source=source, strict=True)
    if result.accepted:
        return []
    return list(result.deviations) or [Deviation("reader", "", result.error or "rejected")]


def refusal(tracking_id: str, problems: list[Deviation]) -> InputError:
    lines = "\n".join(f"  test {p.test_id} at {p.pointer or '/'}: {p.message}" for p in problems)
    return InputError(f"advisory {tracking_id} fails the strict CSAF 2.0 validation and is not published:\n{lines}")


def build(store: Store, reference: str, *, principal: Principal, base_url: str,
          summary: str = "Initial release", now: dt.datetime | None = None) -> tuple[dict[str, Any], list[Deviation]]:
    """The advisory the next ``publish`` would produce, and its strict-validation problems."""
    now = now or now_utc()
    case = cases.load_case(store, reference, principal=principal, now=now)
    with store.read() as conn:
        return _build(conn, case, base_url, summary, now)


def _build(conn: Connection, case: d.Case, base_url: str, summary: str, now: dt.datetime) -> tuple[dict[str, Any], list[Deviation]]:
    tracking_id = tracking_id_of(case)
    history = _history(conn, tracking_id)
    number = str(len(history) + 1)
    history.append(Revision(now, number, summary))
    year = history[0].date.year
    doc = build_advisory(case, cases._products(conn), cases._policy(conn), tracking_id=tracking_id,
                         history=history, self_url=_self_url(base_url, case, tracking_id, year))
    return doc, strict_problems(doc, source=f"{tracking_id} version {number}")


def publish(store: Store, reference: str, *, principal: Principal, out_dir: Path, base_url: str,
            signer: Signer | None, summary: str | None = None, now: dt.datetime | None = None) -> PublishResult:
    """Publish (or revise) the case's advisory and rewrite the provider folder."""
    access.require(principal, "psirt.publish")
    now = now or now_utc()
    if not base_url.startswith("https://") and not base_url.startswith("http://127.0.0.1"):
        raise InputError(f"--base-url {base_url!r}: a provider is served over https:// (CSAF 7.1.1)")
    with store.transaction() as conn:
        case = cases._load(conn, reference, lock=True)
        if not cases.visible(case, principal, now):
            raise PermissionDenied(f"case {reference} is under embargo and you are not inside it")
        if case.state not in (d.CaseState.COORDINATED_RELEASE, d.CaseState.PUBLISHED):
            raise ConflictError(f"case {reference} is {case.state}; publish after the coordinated release "
                                "(psirt release), or revise a published case")
        if d.under_embargo(case, now):
            assert case.embargo is not None
            raise ConflictError(f"case {reference} is under embargo until {case.embargo.until.isoformat()}; "
                                "publish after it, or move the embargo date (psirt embargo --until)")
        first = case.state is d.CaseState.COORDINATED_RELEASE
        doc, problems = _build(conn, case, base_url, summary or ("Initial release" if first else "Revision"), now)
        tracking_id = tracking_id_of(case)
        if problems:
            raise refusal(tracking_id, problems)
        version = int(doc["document"]["tracking"]["version"])
        conn.execute(insert(psirt_advisories).values(tracking_id=tracking_id, version=version,
                                                     case_reference=reference, published_at=now, document=doc))
        published = d.move(case, d.CaseState.PUBLISHED, at=now)
        if first:
            published = published.model_copy(update={"cves": tuple(
                c.model_copy(update={"state": d.CveState.PUBLISHED, "at": now}) if c.state is d.CveState.RESERVED else c
                for c in case.cves)})
        files, notes = _folder_files(conn, base_url, now, signer)
        cases._save(conn, published, now)
        audit.append(conn, action="psirt.publish", object_type=cases.OBJECT, object_id=reference, at=now,
                     reason=summary, before={"state": str(case.state)},
                     after={"state": str(published.state), "tracking_id": tracking_id, "version": version,
                            "signed_by": signer.fingerprint if signer else None},
                     **principal.audit_fields)
    _write(out_dir, files)
    return PublishResult(reference, tracking_id, version, f"{WELL_KNOWN}/{Published(doc, now).path}", len(files),
                         tuple(notes))


def _folder_files(conn: Connection, base_url: str, now: dt.datetime,
                  signer: Signer | None) -> tuple[dict[str, bytes], list[str]]:
    newest: dict[str, Any] = {}
    for row in conn.execute(select(psirt_advisories).order_by(psirt_advisories.c.tracking_id,
                                                              psirt_advisories.c.version)):
        newest[row.tracking_id] = row
    items = [Published(r.document, r.published_at if r.published_at.tzinfo else r.published_at.replace(tzinfo=dt.UTC))
             for r in newest.values()]
    files = provider_files(items, cases._policy(conn), base_url, now,
                           public_key=signer.public_key if signer else None,
                           fingerprint=signer.fingerprint if signer else None)
    meta = files[f"{WELL_KNOWN}/provider-metadata.json"]
    import orjson

    found = provider_metadata_deviations(orjson.loads(meta))
    notes = [f"provider-metadata.json {p.message}" for p in found if p.message.startswith("not checked")]
    problems = [p for p in found if not p.message.startswith("not checked")]
    if problems:
        raise InputError("provider-metadata.json fails the OASIS provider schema:\n"
                         + "\n".join(f"  {p.pointer or '/'}: {p.message}" for p in problems))
    if signer is not None:
        for item in items:
            rel = f"{WELL_KNOWN}/{item.path}"
            files[rel + ".asc"] = signer.sign(files[rel])
    return files, notes


def write_folder(store: Store, *, principal: Principal, out_dir: Path, base_url: str, signer: Signer | None,
                 now: dt.datetime | None = None) -> tuple[int, list[str]]:
    """Rebuild the provider folder from every published advisory (e.g. on a new server, or when
    writing it failed after a publish was recorded); (files written, what was not checked)."""
    access.require(principal, "psirt.publish")
    now = now or now_utc()
    with store.read() as conn:
        files, notes = _folder_files(conn, base_url, now, signer)
    _write(out_dir, files)
    return len(files), notes


def _write(out_dir: Path, files: dict[str, bytes]) -> None:
    """Write the folder. It is served to the public: files 0644 and the folders zonewarden creates
    0755, unlike zonewarden's private outputs (a folder that exists keeps its mode)."""
    if not out_dir.exists():
        make_dir(out_dir).chmod(0o755)
    for rel, data in sorted(files.items()):
        target = out_dir / rel
        missing = [p for p in reversed(target.relative_to(out_dir).parents) if str(p) != "." and not (out_dir / p).exists()]
        make_dir(target.parent)
        for folder in missing:
            (out_dir / folder).chmod(0o755)
        write_atomic(target, data, mode=0o644)


def advisories(store: Store, *, principal: Principal) -> list[dict[str, Any]]:
    """Every published revision (tracking id, version, case, time)."""
    access.require(principal, "psirt.read")
    with store.read() as conn:
        rows = conn.execute(select(psirt_advisories.c.tracking_id, psirt_advisories.c.version,
                                   psirt_advisories.c.case_reference, psirt_advisories.c.published_at)
                            .order_by(psirt_advisories.c.tracking_id, psirt_advisories.c.version)).all()
    return [{"tracking_id": r.tracking_id, "version": r.version, "case": r.case_reference,
             "published_at": r.published_at.isoformat()} for r in rows]
