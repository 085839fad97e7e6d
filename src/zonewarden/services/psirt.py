"""The supplier's PSIRT: intake, case management, the product register (issue 16).

Every write is one transaction with one audit event (``psirt.<step>``, object ``psirt_case``).
The audit event records the step's non-sensitive facts only (state, owners, dates, party names,
CVE ids): the reporter's details and the report's text stay in the case document.

Who sees what: ``psirt.read`` lists cases; an **embargoed** case (an embargo not yet over, on a
case not yet published) shows its details only to the people inside it (its owners and the
embargo's members; the single local user of a database without accounts is inside every case).
Anyone else gets :func:`zonewarden.domain.psirt.outline` (reference, state, dates) and cannot
change it. Reporter details are sensitive: they never leave :func:`show_case` for a caller
outside the case's circle, and no export carries them.

The unauthenticated intake (:func:`submit_report`, :func:`report_status`) is written so that an
API route is one line: it takes bytes, limits size and rate, and answers only with the
reference and a status secret; the secret later reads the state of that one report, nothing else.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from zonewarden.clock import now_utc
from zonewarden.domain import psirt as d
from zonewarden.domain.psirt_ssvc import decide_coordinator
from zonewarden.engines.versions import try_version
from zonewarden.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDenied,
    Problem,
    RateLimited,
    StaleRevisionError,
)
from zonewarden.io import yamlio
from zonewarden.io.csaf.model import pointer
from zonewarden.services import audit, identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.psirt_tables import psirt_cases, psirt_products, psirt_settings

OBJECT = "psirt_case"
RATE_LIMIT = 5
"""Reports one client may submit through the unauthenticated intake per hour."""
REPORTER = Principal(user_id="reporter", method="anonymous", client="api")
"""The actor of reports that came in through the unauthenticated intake."""


@dataclass(frozen=True, slots=True)
class Intake:
    """The answer to a reporter: the case reference, the status secret (shown once) and when
    the acknowledgement is due."""

    reference: str
    secret: str
    acknowledge_by: dt.datetime
    key: d.ReporterKey | None = None
    """The reporter's encryption key as checked at intake (None: the report carried none)."""

    @property
    def encryption(self) -> str:
        """What the acknowledgement says about answering the reporter."""
        if self.key is None:
            return "no encryption key: answers go through the contact channel in clear"
        if self.key.fingerprint is None:
            return "encryption key not checked (gpg is not installed); it is checked before the first answer"
        until = f", expires {self.key.expires.date().isoformat()}" if self.key.expires else ""
        return f"answers are encrypted to key {self.key.fingerprint}{until}"

    def as_dict(self) -> dict[str, str | None]:
        return {"reference": self.reference, "status_secret": self.secret,
                "acknowledge_by": self.acknowledge_by.isoformat(),
                "encryption_key_fingerprint": self.key.fingerprint if self.key else None,
                "encryption": self.encryption}


# --- reading a report -----------------------------------------------------------------------------


def _problems_of(exc: ValidationError, source: str) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        out.append(Problem(f"{err['msg']} (JSON pointer {pointer(*loc) or '/'})", path=loc, file=source))
    return out


def parse_report(data: bytes, *, source: str) -> d.Report:
    """A report from JSON or YAML bytes, validated; :class:`InputError` names each problem with
    its JSON pointer. Bigger than :data:`~zonewarden.domain.psirt.MAX_REPORT_BYTES` is refused
    unread. Text is kept as sent (a ``<script>`` stays text; nothing renders it as HTML)."""
    if len(data) > d.MAX_REPORT_BYTES:
        raise InputError(f"{source}: the report is {len(data)} bytes; at most {d.MAX_REPORT_BYTES} are accepted "
                         "(send large attachments separately, on request)")
    stripped = data.lstrip()
    raw: Any
    if stripped.startswith((b"{", b"[")):
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{source} is not valid JSON",
                             [Problem(exc.msg, file=source, line=exc.lineno, column=exc.colno)]) from None
    else:
        raw = yamlio.loads(data, source=source)
    if not isinstance(raw, dict):
        raise InputError(f"{source}: a report is an object (reporter, product, title, description, ...)",
                         [Problem("the top level is not an object (JSON pointer /)", file=source)])
    try:
        report = d.Report.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{source} is not a valid vulnerability report", _problems_of(exc, source)) from None
    problems = []
    for i, att in enumerate(report.attachments):
        size = _attachment_size(att)
        if size is None:
            problems.append(Problem(f"attachment {att.name!r} of type {att.media_type} is not base64 "
                                    f"(JSON pointer {pointer('attachments', i, 'content')})",
                                    path=("attachments", i, "content"), file=source))
        elif size > d.MAX_ATTACHMENT_BYTES:
            problems.append(Problem(f"attachment {att.name!r} is {size} bytes; at most {d.MAX_ATTACHMENT_BYTES} "
                                    f"(JSON pointer {pointer('attachments', i, 'content')})",
                                    path=("attachments", i, "content"), file=source))
    if problems:
        raise InputError(f"{source} is not a valid vulnerability report", problems)
    return report


def _attachment_size(att: d.Attachment) -> int | None:
    if att.media_type == "text/plain":
        return len(att.content.encode("utf-8"))
    try:
        return len(base64.b64decode(att.content, validate=True))
    except (binascii.Error, ValueError):
        return None


def read_report_file(path: Path) -> d.Report:
    try:
        size = path.stat().st_size
        if size > d.MAX_REPORT_BYTES:
            raise InputError(f"{path}: the report is {size} bytes; at most {d.MAX_REPORT_BYTES} are accepted")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_report(data, source=str(path))


# --- storage helpers ------------------------------------------------------------------------------


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _doc(case: d.Case) -> dict[str, Any]:
    return case.model_dump(mode="json")


class StaleCaseError(StaleRevisionError):
    """A case write named the version it edits (``If-Match``) and the case has moved on (412)."""

    def __init__(self, reference: str, expected: str, current: str) -> None:
        self.site_id, self.expected, self.current = reference, expected, current
        ConflictError.__init__(self, f"case {reference} changed since version {expected[:12]}: read it again "
                                     "(its ETag) and redo the change on the current version")


def case_digest(case: d.Case) -> str:
    """sha256 of the case document (canonical JSON): the audit events carry it instead of the
    case's details, so the trail proves which state each step produced without holding
    embargoed details or the reporter's data."""
    return hashlib.sha256(orjson.dumps(_doc(case), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _lock_sequence(conn: Connection, now: dt.datetime) -> tuple[str, int]:
    """Take the write lock on the year's intake counter (created if missing); (key, last number)."""
    key = f"sequence-{now.year}"
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(psirt_settings).values(key=key, document={"last": 0}).on_conflict_do_nothing())
    row = conn.execute(select(psirt_settings.c.document).where(psirt_settings.c.key == key).with_for_update()).one()
    return key, int(row.document["last"])


def _next_reference(conn: Connection, now: dt.datetime) -> str:
    """The next ``PSIRT-<year>-<n>``, from a counter row read under its write lock (two intakes at
    once on PostgreSQL wait for each other instead of computing the same reference)."""
    key, last = _lock_sequence(conn, now)
    n = last + 1
    conn.execute(update(psirt_settings).where(psirt_settings.c.key == key).values(document={"last": n}))
    return f"PSIRT-{now.year}-{n:04d}"


def check_reporter_key(report: d.Report, now: dt.datetime, *, source: str) -> d.ReporterKey | None:
    """Check the report's encryption key at intake (one public key that can encrypt, not
    revoked or expired); :class:`InputError` with its JSON pointer and why. Without gpg on the
    machine the key is kept unchecked (said in the acknowledgement, checked before an answer)."""
    from zonewarden.services import psirt_gpg

    armoured = report.reporter.encryption_key
    if not armoured:
        return None
    if not psirt_gpg.gpg_available():
        return d.ReporterKey(fingerprint=None, checked_at=now)
    where = pointer("reporter", "encryption_key")
    try:
        info = psirt_gpg.check_public_key(armoured, now, source="encryption key")
    except InputError as exc:
        raise InputError(f"{source} is not a valid vulnerability report",
                         [Problem(f"{exc} (JSON pointer {where})", path=("reporter", "encryption_key"),
                                  file=source)]) from None
    return d.ReporterKey(fingerprint=info.fingerprint, expires=info.expires, checked_at=now)


def _insert_case(conn: Connection, report: d.Report, now: dt.datetime, *, client_key: str | None,
                 key: d.ReporterKey | None = None) -> tuple[d.Case, str]:
    reference = _next_reference(conn, now)
    case = d.Case(reference=reference, received_at=now, report=report, reporter_key=key)
    secret = secrets.token_urlsafe(24)
    conn.execute(insert(psirt_cases).values(
        reference=reference, state=str(case.state), received_at=now, updated_at=now, embargo_until=None,
        status_secret=_hash(secret), client_key=client_key, document=_doc(case)))
    return case, secret


def _load(conn: Connection, reference: str, *, lock: bool = False) -> d.Case:
    q = select(psirt_cases.c.document).where(psirt_cases.c.reference == reference)
    row = conn.execute(q.with_for_update() if lock else q).first()
    if row is None:
        raise NotFoundError(f"no PSIRT case {reference!r} (see `zonewarden psirt list`)")
    return d.Case.model_validate(row.document)


def _save(conn: Connection, case: d.Case, now: dt.datetime) -> None:
    conn.execute(update(psirt_cases).where(psirt_cases.c.reference == case.reference).values(
        state=str(case.state), updated_at=now, embargo_until=case.embargo.until if case.embargo else None,
        document=_doc(case)))


def policy(store: Store) -> d.DisclosurePolicy:
    """The recorded disclosure policy (the defaults until one is set)."""
    with store.read() as conn:
        return _policy(conn)


def _policy(conn: Connection) -> d.DisclosurePolicy:
    row = conn.execute(select(psirt_settings.c.document).where(psirt_settings.c.key == "policy")).first()
    return d.DisclosurePolicy() if row is None else d.DisclosurePolicy.model_validate(row.document)


def set_policy(store: Store, new: d.DisclosurePolicy, *, principal: Principal) -> None:
    identity.authorize(store, principal, "psirt.publish")
    with store.transaction() as conn:
        old = conn.execute(select(psirt_settings.c.document).where(psirt_settings.c.key == "policy")).first()
        doc = new.model_dump(mode="json")
        if old is None:
            conn.execute(insert(psirt_settings).values(key="policy", document=doc))
        else:
            conn.execute(update(psirt_settings).where(psirt_settings.c.key == "policy").values(document=doc))
        audit.append(conn, action="psirt.policy", object_type="psirt_policy", object_id="policy",
                     before=None if old is None else old.document, after=doc, **principal.audit_fields)


def read_policy_file(path: Path) -> d.DisclosurePolicy:
    try:
        raw = yamlio.load_file(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return d.DisclosurePolicy.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{path} is not a valid disclosure policy", _problems_of(exc, str(path))) from None


# --- visibility -----------------------------------------------------------------------------------


def is_inside(case: d.Case, principal: Principal) -> bool:
    """Whether ``principal`` is inside the case's circle (owners, embargo members, the local user)."""
    return principal.local or d.inside(case, principal.user_id)


def visible(case: d.Case, principal: Principal, now: dt.datetime) -> bool:
    """Whether ``principal`` may see the case's details now."""
    return not d.under_embargo(case, now) or is_inside(case, principal)


def view(case: d.Case, principal: Principal, now: dt.datetime, policy_: d.DisclosurePolicy) -> dict[str, Any]:
    """The case as ``principal`` may see it: in full (with due dates) or its outline only."""
    if not visible(case, principal, now):
        return d.outline(case)
    out = _doc(case)
    out["embargoed"] = d.under_embargo(case, now)
    out["due"] = {k: v.isoformat() for k, v in d.due_dates(case, policy_).items()}
    out["overdue"] = d.overdue(case, policy_, now)
    for att in out["report"]["attachments"]:
        att["content"] = f"<{len(att['content'])} characters, stored inert; see `psirt attachment`>"
    return out


# --- intake ---------------------------------------------------------------------------------------


def intake(store: Store, report: d.Report, *, principal: Principal, source: str | None = None,
           now: dt.datetime | None = None) -> Intake:
    """Record a report a PSIRT member received (mail, a file); returns its reference."""
    identity.authorize(store, principal, "psirt.write")
    now = now or now_utc()
    key = check_reporter_key(report, now, source=source or "report")
    with store.transaction() as conn:
        case, secret = _insert_case(conn, report, now, client_key=None, key=key)
        audit.append(conn, action="psirt.intake", object_type=OBJECT, object_id=case.reference, at=now,
                     after={"state": str(case.state), "source": source, "case_digest": case_digest(case),
                            "key_fingerprint": key.fingerprint if key else None},
                     **principal.audit_fields)
        pol = _policy(conn)
    return Intake(case.reference, secret, d.due_dates(case, pol)["acknowledge"], key)


def submit_report(store: Store, data: bytes, *, client: str, now: dt.datetime | None = None) -> Intake:
    """The unauthenticated intake: a reporter's JSON/YAML report, at most
    :data:`RATE_LIMIT` per ``client`` (e.g. its address) and hour. Answers with the reference
    and the status secret only."""
    report = parse_report(data, source="report")
    now = now or now_utc()
    key = _hash(client)

    def limit(conn: Connection) -> None:
        recent = conn.execute(select(func.count()).select_from(psirt_cases).where(
            psirt_cases.c.client_key == key, psirt_cases.c.received_at > now - dt.timedelta(hours=1))).scalar_one()
        if recent >= RATE_LIMIT:
            raise RateLimited(f"too many reports from this client ({RATE_LIMIT} an hour); try again later")

    with store.read() as conn:
        limit(conn)  # before gpg runs on the key: a client over the limit costs no gpg process
    reporter_key = check_reporter_key(report, now, source="report")
    with store.transaction() as conn:
        _lock_sequence(conn, now)  # intakes one at a time, so two requests cannot both pass the limit
        limit(conn)
        case, secret = _insert_case(conn, report, now, client_key=key, key=reporter_key)
        audit.append(conn, action="psirt.intake", object_type=OBJECT, object_id=case.reference, at=now,
                     after={"state": str(case.state), "source": "intake endpoint", "case_digest": case_digest(case),
                            "key_fingerprint": reporter_key.fingerprint if reporter_key else None},
                     **REPORTER.audit_fields)
        pol = _policy(conn)
    return Intake(case.reference, secret, d.due_dates(case, pol)["acknowledge"], reporter_key)


def report_status(store: Store, secret: str) -> dict[str, Any]:
    """What the secret link shows a reporter: the reference, state and dates of their report
    only. An unknown secret is one generic :class:`NotFoundError`."""
    if not secret or len(secret) > 200:
        raise NotFoundError("no report with this status link")
    with store.read() as conn:
        row = conn.execute(select(psirt_cases.c.document).where(psirt_cases.c.status_secret == _hash(secret))).first()
    if row is None:
        raise NotFoundError("no report with this status link")
    case = d.Case.model_validate(row.document)
    return {"reference": case.reference, "state": str(case.state),
            "received_at": case.received_at.isoformat(),
            "acknowledged_at": case.acknowledged_at.isoformat() if case.acknowledged_at else None,
            "rejection_reason": case.rejection_reason if case.state is d.CaseState.REJECTED else None}


# --- reading cases --------------------------------------------------------------------------------


def list_cases(store: Store, *, principal: Principal, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """One row per case (reference order); embargoed cases outside the caller's circle as outlines."""
    identity.authorize(store, principal, "psirt.read")
    now = now or now_utc()
    with store.read() as conn:
        pol = _policy(conn)
        rows = conn.execute(select(psirt_cases.c.document).order_by(psirt_cases.c.reference)).all()
    out = []
    for row in rows:
        case = d.Case.model_validate(row.document)
        if not visible(case, principal, now):
            out.append({**d.outline(case), "product": None, "title": None, "owners": None, "overdue": None})
            continue
        out.append({"reference": case.reference, "state": str(case.state), "product": case.report.product,
                    "title": case.report.title, "owners": list(case.owners),
                    "received_at": case.received_at.isoformat(), "embargoed": d.under_embargo(case, now),
                    "embargo_until": case.embargo.until.isoformat() if case.embargo else None,
                    "overdue": d.overdue(case, pol, now)})
    return out


def show_case(store: Store, reference: str, *, principal: Principal, now: dt.datetime | None = None) -> dict[str, Any]:
    return show_case_version(store, reference, principal=principal, now=now)[0]


def show_case_version(store: Store, reference: str, *, principal: Principal,
                      now: dt.datetime | None = None) -> tuple[dict[str, Any], str | None]:
    """The case as the caller may see it, and its version (:func:`case_digest`, what a write
    sends back as ``If-Match``); no version for a caller outside an embargo (they see an outline
    and may not write)."""
    identity.authorize(store, principal, "psirt.read")
    now = now or now_utc()
    with store.read() as conn:
        case = _load(conn, reference)
        shown = view(case, principal, now, _policy(conn))
    return shown, (case_digest(case) if visible(case, principal, now) else None)


def load_case(store: Store, reference: str, *, principal: Principal, now: dt.datetime | None = None) -> d.Case:
    """The whole case, for a caller inside its circle (publishing, authoring)."""
    identity.authorize(store, principal, "psirt.read")
    now = now or now_utc()
    with store.read() as conn:
        case = _load(conn, reference)
    if not visible(case, principal, now):
        raise PermissionDenied(f"case {reference} is under embargo and you are not inside it")
    return case


def attachment(store: Store, reference: str, index: int, *, principal: Principal) -> tuple[d.Attachment, bytes]:
    """One attachment's bytes (decoded), for a caller who may see the case."""
    case = load_case(store, reference, principal=principal)
    try:
        att = case.report.attachments[index]
    except IndexError:
        raise NotFoundError(f"case {reference} has {len(case.report.attachments)} attachments; no #{index}") from None
    data = att.content.encode() if att.media_type == "text/plain" else base64.b64decode(att.content)
    return att, data


def export_cases(store: Store, *, principal: Principal, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """What may leave the PSIRT for customers: published (or closed after publication) cases
    with their CVEs and affected products; nothing of a case under embargo, no reporter."""
    identity.authorize(store, principal, "psirt.read")
    now = now or now_utc()
    out = []
    with store.read() as conn:
        rows = conn.execute(select(psirt_cases.c.document).order_by(psirt_cases.c.reference)).all()
    for row in rows:
        case = d.Case.model_validate(row.document)
        if d.under_embargo(case, now) or case.state not in (d.CaseState.PUBLISHED, d.CaseState.CLOSED):
            continue
        if case.assessment is None:
            continue
        out.append({"reference": case.reference, "title": case.report.title,
                    "cves": [c.cve for c in case.cves], "summary": case.assessment.summary,
                    "affected": [a.model_dump(mode="json") for a in case.affected]})
    return out


# --- case steps -----------------------------------------------------------------------------------


def _step(store: Store, reference: str, *, principal: Principal, action: str,
          change: Callable[[d.Case, dt.datetime], d.Case], facts: Mapping[str, Any] | None = None,
          reason: str | None = None, now: dt.datetime | None = None, operation: str = "psirt.write",
          expected: str | None = None) -> d.Case:
    """Apply one change to a case under its write lock, with its audit event. ``expected``: the
    case version (:func:`case_digest`, the API's ETag) the caller edits; a case that moved on
    since is :class:`StaleCaseError` (checked after the embargo, so an outsider learns nothing)."""
    identity.authorize(store, principal, operation)
    now = now or now_utc()
    with store.transaction() as conn:
        case = _load(conn, reference, lock=True)
        if d.under_embargo(case, now) and not is_inside(case, principal):
            raise PermissionDenied(f"case {reference} is under embargo and you are not inside it; "
                                   "an owner can add you (psirt embargo --member)")
        if expected is not None and expected != case_digest(case):
            raise StaleCaseError(reference, expected, case_digest(case))
        new = change(case, now)
        _save(conn, new, now)
        audit.append(conn, action=action, object_type=OBJECT, object_id=reference, reason=reason, at=now,
                     before={"state": str(case.state), "case_digest": case_digest(case)},
                     after={"state": str(new.state), **(facts or {}), "case_digest": case_digest(new)},
                     **principal.audit_fields)
    return new


def acknowledge(store: Store, reference: str, *, principal: Principal, owners: Iterable[str] = (),
                now: dt.datetime | None = None,
                expected: str | None = None) -> d.Case:
    """Acknowledge the report (received -> triage); the owners default to the caller."""
    names = tuple(dict.fromkeys(owners)) or (principal.user_id,)

    def change(case: d.Case, at: dt.datetime) -> d.Case:
        moved = d.move(case, d.CaseState.TRIAGE, at=at)
        return moved.model_copy(update={"owners": tuple(dict.fromkeys((*case.owners, *names)))})

    return _step(store, reference, principal=principal, action="psirt.acknowledge", change=change,
                 facts={"owners": list(names)}, now=now, expected=expected)


def set_owners(store: Store, reference: str, *, principal: Principal, add: Iterable[str] = (),
               remove: Iterable[str] = (), now: dt.datetime | None = None,
               expected: str | None = None) -> d.Case:
    add, remove = tuple(add), set(remove)

    def change(case: d.Case, at: dt.datetime) -> d.Case:
        owners = tuple(o for o in dict.fromkeys((*case.owners, *add)) if o not in remove)
        return case.model_copy(update={"owners": owners})

    return _step(store, reference, principal=principal, action="psirt.owners", change=change,
                 facts={"added": list(add), "removed": sorted(remove)}, now=now, expected=expected)


def transition(store: Store, reference: str, to: d.CaseState, *, principal: Principal, reason: str | None = None,
               now: dt.datetime | None = None,
               expected: str | None = None) -> d.Case:
    """Move the case to ``to`` (validate, reject with a reason, remediation, release, close)."""
    return _step(store, reference, principal=principal, action=f"psirt.{to}",
                 change=lambda case, at: d.move(case, to, at=at, reason=reason), reason=reason, now=now, expected=expected)


def set_embargo(store: Store, reference: str, until: dt.datetime, *, principal: Principal,
                members: Iterable[str] = (), parties: Iterable[str] = (), now: dt.datetime | None = None,
                expected: str | None = None) -> d.Case:
    """Set (or move) the embargo date and who is inside it. The caller stays inside."""
    members = tuple(dict.fromkeys(members))
    parties = tuple(dict.fromkeys(parties))
    if until.tzinfo is None:
        raise InputError("--until needs a time zone (e.g. 2027-01-15T09:00:00Z)")

    def change(case: d.Case, at: dt.datetime) -> d.Case:
        if case.state in (d.CaseState.PUBLISHED, d.CaseState.CLOSED, d.CaseState.REJECTED):
            raise ConflictError(f"case {reference} is {case.state}: an embargo no longer applies")
        keep = () if principal.local else (principal.user_id,)
        return case.model_copy(update={"embargo": d.Embargo(until=until, members=tuple(dict.fromkeys((*members, *keep))),
                                                               parties=parties)})

    return _step(store, reference, principal=principal, action="psirt.embargo", change=change,
                 facts={"until": until.isoformat(), "members": list(members), "parties": list(parties)}, now=now, expected=expected)


def coordinate(store: Store, reference: str, *, principal: Principal, party: str, kind: str, told: str,
               at: dt.datetime | None = None, now: dt.datetime | None = None,
               expected: str | None = None) -> d.Case:
    """Record that ``party`` (a CERT, an ISAC, an integrator, a customer) was told ``told``."""
    def change(case: d.Case, when: dt.datetime) -> d.Case:
        try:
            entry = d.Party(name=party, kind=kind, told=told, at=at or when, by=principal.user_id)
        except ValidationError as exc:
            raise InputError("coordination entry is not valid", _problems_of(exc, "coordinate")) from None
        return case.model_copy(update={"parties": (*case.parties, entry)})

    return _step(store, reference, principal=principal, action="psirt.coordinate", change=change,
                 facts={"party": party, "kind": kind, "at": (at.isoformat() if at else None)}, now=now, expected=expected)


def record_cve(store: Store, reference: str, cve: str, state: d.CveState, *, principal: Principal,
               now: dt.datetime | None = None,
               expected: str | None = None) -> d.Case:
    """Record a CVE id of the case as requested, reserved or published (one record per id)."""
    def change(case: d.Case, at: dt.datetime) -> d.Case:
        try:
            rec = d.CveRecord(cve=cve, state=state, at=at)
        except ValidationError as exc:
            raise InputError(f"{cve!r} is not a CVE id (CVE-YYYY-NNNN)", _problems_of(exc, "cve")) from None
        others = tuple(c for c in case.cves if c.cve != cve)
        return case.model_copy(update={"cves": (*others, rec)})

    return _step(store, reference, principal=principal, action="psirt.cve", change=change,
                 facts={"cve": cve, "cve_state": str(state)}, now=now, expected=expected)


def record_coordinator_decision(store: Store, reference: str, table: Mapping[str, Any], inputs: Mapping[str, str], *,
                                principal: Principal, now: dt.datetime | None = None,
                                expected: str | None = None) -> d.Case:
    """Decide with an SSVC coordinator table (triage or publish) and record the decision."""
    outcome = decide_coordinator(table, inputs)

    def change(case: d.Case, at: dt.datetime) -> d.Case:
        return case.model_copy(update={"coordinator": d.CoordinatorDecision(
            table=outcome.table, inputs=dict(outcome.inputs), outcome=outcome.value, outcome_name=outcome.name,
            at=at, by=principal.user_id)})

    return _step(store, reference, principal=principal, action="psirt.ssvc", change=change,
                 facts={"table": outcome.table, "outcome": outcome.value}, now=now, expected=expected)


def assess(store: Store, reference: str, assessment: d.Assessment, *, principal: Principal,
           category: str | None = None, tlp: str | None = None, now: dt.datetime | None = None,
           expected: str | None = None) -> d.Case:
    """Record what the advisory will say (summary, CWE, CVSS, impact, remediation)."""
    def change(case: d.Case, at: dt.datetime) -> d.Case:
        upd: dict[str, Any] = {"assessment": assessment}
        if category:
            upd["category"] = category
        if tlp:
            upd["tlp"] = tlp.upper()
        try:
            return d.Case.model_validate({**case.model_dump(), **upd})
        except ValidationError as exc:
            raise InputError("assessment is not valid", _problems_of(exc, "assess")) from None

    return _step(store, reference, principal=principal, action="psirt.assess", change=change,
                 now=now, expected=expected)


# --- product register -----------------------------------------------------------------------------


def add_product(store: Store, product: d.Product, *, principal: Principal) -> None:
    """Add a product to the register, or replace its entry (new versions released)."""
    identity.authorize(store, principal, "psirt.write")
    _check_versions(product.versions, f"product {product.id}")
    with store.transaction() as conn:
        old = conn.execute(select(psirt_products.c.document).where(psirt_products.c.id == product.id)).first()
        doc = product.model_dump(mode="json")
        if old is None:
            conn.execute(insert(psirt_products).values(id=product.id, document=doc))
        else:
            conn.execute(update(psirt_products).where(psirt_products.c.id == product.id).values(document=doc))
        audit.append(conn, action="psirt.product", object_type="psirt_product", object_id=product.id,
                     before=None if old is None else old.document, after=doc, **principal.audit_fields)


def _check_versions(versions: Iterable[str], what: str) -> None:
    bad = [v for v in versions if try_version(v) is None]
    if bad:
        raise InputError(f"{what}: versions zonewarden cannot order: {', '.join(bad)} (write them as the product shows them, e.g. V2.1.3)")


def products(store: Store, *, principal: Principal) -> list[d.Product]:
    identity.authorize(store, principal, "psirt.read")
    with store.read() as conn:
        return _products(conn)


def _products(conn: Connection) -> list[d.Product]:
    rows = conn.execute(select(psirt_products.c.document).order_by(psirt_products.c.id)).all()
    return [d.Product.model_validate(r.document) for r in rows]


def resolve_versions(product: d.Product, spec: str) -> tuple[str, ...]:
    """The registered versions ``spec`` names: ``<V`` / ``<=V`` (every registered version
    below / up to V), ``A..B`` (inclusive), or a comma-separated list of registered versions."""
    spec = spec.strip()
    parsed = [(v, try_version(v)) for v in product.versions]

    def key(text: str):  # type: ignore[no-untyped-def]
        ver = try_version(text)
        if ver is None:
            raise InputError(f"--versions {spec!r}: cannot order the version {text!r}")
        return ver

    if spec.startswith("<="):
        top = key(spec[2:].strip())
        out = [v for v, p in parsed if p is not None and p <= top]
    elif spec.startswith("<"):
        top = key(spec[1:].strip())
        out = [v for v, p in parsed if p is not None and p < top]
    elif ".." in spec:
        lo_s, hi_s = spec.split("..", 1)
        lo, hi = key(lo_s.strip()), key(hi_s.strip())
        out = [v for v, p in parsed if p is not None and lo <= p <= hi]
    else:
        wanted = [v.strip() for v in spec.split(",") if v.strip()]
        unknown = [v for v in wanted if v not in product.versions]
        if unknown:
            raise InputError(f"--versions: {', '.join(unknown)} not in the register of {product.id} "
                             f"(known: {', '.join(product.versions)}; add them with `psirt product add`)")
        out = wanted
    if not out:
        raise InputError(f"--versions {spec!r} names no registered version of {product.id} (known: {', '.join(product.versions)})")
    return tuple(out)


def record_affected(store: Store, reference: str, product_id: str, versions: str, *, principal: Principal,
                    fixed: str | None = None, now: dt.datetime | None = None,
                    expected: str | None = None) -> d.Case:
    """Record which registered versions of ``product_id`` the case affects and which fixes them."""
    with store.read() as conn:
        found = [p for p in _products(conn) if p.id == product_id]
    if not found:
        raise NotFoundError(f"no product {product_id!r} in the register (psirt product add)")
    product = found[0]
    chosen = resolve_versions(product, versions)
    if fixed is not None:
        if fixed not in product.versions:
            raise InputError(f"--fixed {fixed}: not a registered version of {product_id} (add it with `psirt product add`)")
        if fixed in chosen:
            raise InputError(f"--fixed {fixed} is also among the affected versions")
    entry = d.Affected(product=product_id, versions=chosen, fixed=fixed)

    def change(case: d.Case, at: dt.datetime) -> d.Case:
        others = tuple(a for a in case.affected if a.product != product_id)
        return case.model_copy(update={"affected": (*others, entry)})

    return _step(store, reference, principal=principal, action="psirt.affects", change=change,
                 facts={"versions": len(chosen)}, now=now, expected=expected)
