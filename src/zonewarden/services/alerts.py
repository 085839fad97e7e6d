"""Alerts (issue 13): subscriptions per user, events found by the scheduled checks, delivery by
e-mail (SMTP) and signed webhooks, and the stale-feed check the dashboard shows.

Events (``EVENT_KINDS``):

* ``finding``: a new active finding with matcher status *affected* at or above the
  subscription's ``min_priority`` (SSVC), created after the subscription;
* ``sla``: an open remediation whose patch deadline is at most ``SLA_WARNING`` away;
* ``expiry``: an approved deferral or compensating control that expires within ``EXPIRY_WARNING``;
* ``signature``: anything the approvals inbox lists as waiting for a signature (a compensating
  control, a deferral, a waiver, a proposed patch change or change record:
  ``services.queries.approvals.pending_in``), sent to subscribers who may approve it; one that
  would already have run out is not asked for.

A subscription filters by site, zone and priority. The subscriber's account is looked up each
time (current roles): an event of a site the account may no longer read (``site.read``; a
customer never may) is not sent, so nobody receives more than the pages would show them.
Alert bodies carry ids, titles, priorities and dates, never a secret (the webhook key is only
used to sign).

Each (subscription, event) is one ``alert_deliveries`` row under a unique key, so an event is
sent once however often the checks run. A failed delivery is retried with backoff
(``RETRY_BACKOFF * 2**(attempt-1)``) up to ``MAX_ATTEMPTS`` times; its error is kept in
``last_error`` (:func:`list_deliveries`).

Webhooks: ``POST`` of the JSON body with ``X-Zonewarden-Timestamp`` (Unix seconds) and
``X-Zonewarden-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``; the receiver
checks both with :func:`verify_webhook` (the timestamp bounds replay).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from sqlalchemy import and_, select, update

from zonewarden.domain.priority import Priority
from zonewarden.errors import InputError, NotFoundError, PermissionDenied
from zonewarden.services import access, audit, csaf_sync, identity
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store
from zonewarden.store.job_tables import alert_deliveries, alert_subscriptions

EVENT_KINDS = ("finding", "sla", "expiry", "signature")
CHANNELS = ("email", "webhook")
SLA_WARNING = dt.timedelta(days=7)
EXPIRY_WARNING = dt.timedelta(days=30)
MAX_ATTEMPTS = 5
RETRY_BACKOFF = dt.timedelta(minutes=1)
REPLAY_WINDOW = dt.timedelta(minutes=5)
SIGNATURE_HEADER = "X-Zonewarden-Signature"
TIMESTAMP_HEADER = "X-Zonewarden-Timestamp"
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(v: dt.datetime | None) -> dt.datetime | None:
    if v is None:
        return None
    return v if v.tzinfo else v.replace(tzinfo=dt.UTC)


# --- subscriptions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    user: str
    channel: str
    target: str
    events: tuple[str, ...]
    site_id: str | None
    zone_id: str | None
    min_priority: str | None
    created_at: dt.datetime
    secret: str | None = field(default=None, repr=False)
    """The webhook key: returned once by :func:`subscribe`, never by a listing."""

    def as_json(self) -> dict[str, Any]:
        out = {"id": self.id, "user": self.user, "channel": self.channel, "target": self.target,
               "events": list(self.events), "site": self.site_id, "zone": self.zone_id,
               "min_priority": self.min_priority, "created_at": self.created_at.isoformat()}
        if self.secret is not None:
            out["secret"] = self.secret
        return out


def _subscription(r: Any, secret: str | None = None) -> Subscription:
    return Subscription(int(r.id), r.user_name, r.channel, r.target, tuple(r.events), r.site_id, r.zone_id,
                        r.min_priority, _utc(r.created_at) or _now(), secret)


def _site_ids(store: Store) -> list[str]:
    from zonewarden.store.tables import sites

    with store.read() as conn:
        return [r.id for r in conn.execute(select(sites.c.id).order_by(sites.c.id))]


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _check_webhook_url(url: str) -> None:
    """https://, or plain http:// to this machine only (a relay on localhost): an alert says
    which asset is exposed to what, which is not for everyone on the path to read."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except Exception as exc:  # noqa: BLE001 - httpx raises several kinds for a bad URL
        raise InputError(f"{url!r} is not a URL for the webhook") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError(f"{url!r} is not an http(s):// URL for the webhook")
    if parsed.scheme == "http" and parsed.host not in _LOOPBACK:
        raise InputError(f"webhook {url}: use https:// (plain http:// only to this machine: 127.0.0.1, localhost)")


def subscribe(store: Store, principal: Principal, *, channel: str, target: str,
              events: Iterable[str] = EVENT_KINDS, site_id: str | None = None, zone_id: str | None = None,
              min_priority: str | None = None) -> Subscription:
    """Subscribe the principal to alerts; a webhook subscription's HMAC key is generated and
    returned (in :attr:`Subscription.secret`) this once."""
    kinds = tuple(dict.fromkeys(events))
    bad = [k for k in kinds if k not in EVENT_KINDS]
    if bad or not kinds:
        raise InputError(f"alert events {', '.join(bad) or '(none)'}: use one or more of {', '.join(EVENT_KINDS)}")
    if channel not in CHANNELS:
        raise InputError(f"alert channel {channel!r}: use email or webhook")
    target = target.strip()
    if channel == "email" and not _EMAIL.match(target):
        raise InputError(f"{target!r} is not an e-mail address (name@example.com)")
    if channel == "webhook":
        _check_webhook_url(target)
    if len(target) > 2000:
        raise InputError("the alert target is longer than 2000 characters")
    if min_priority is not None and min_priority not in {p.value for p in Priority}:
        raise InputError(f"priority {min_priority!r}: use one of {', '.join(p.value for p in Priority)}")
    if zone_id is not None and site_id is None:
        raise InputError("a zone filter needs the site too (--site)")
    if site_id is not None:
        if site_id not in _site_ids(store):
            raise NotFoundError(f"no site {site_id!r} in the database")
        identity.authorize(store, principal, "alert.subscribe", site_id)
    elif not any(access.allowed(principal, "alert.subscribe", s) for s in _site_ids(store) or ["*"]):
        identity.authorize(store, principal, "alert.subscribe", None)  # records and raises the denial
    secret = secrets.token_urlsafe(32) if channel == "webhook" else None
    now = _now()
    with store.transaction() as conn:
        key = conn.execute(alert_subscriptions.insert().values(
            user_name=principal.user_id, channel=channel, target=target, secret=secret, events=list(kinds),
            site_id=site_id, zone_id=zone_id, min_priority=min_priority, created_at=now,
        )).inserted_primary_key
        assert key is not None
        sub_id = int(key[0])
        audit.append(conn, action="alert.subscribe", **principal.audit_fields, site_id=site_id,
                     object_type="alert-subscription", object_id=str(sub_id),
                     after={"channel": channel, "events": list(kinds), "zone": zone_id, "min_priority": min_priority},
                     at=now)
        row = conn.execute(select(alert_subscriptions).where(alert_subscriptions.c.id == sub_id)).one()
    return _subscription(row, secret)


def list_subscriptions(store: Store, principal: Principal, *, all_users: bool = False) -> list[Subscription]:
    """The principal's subscriptions (everyone's with ``all_users``, which needs ``alert.admin``)."""
    stmt = select(alert_subscriptions).order_by(alert_subscriptions.c.id)
    if all_users:
        identity.authorize(store, principal, "alert.admin")
    else:
        stmt = stmt.where(alert_subscriptions.c.user_name == principal.user_id)
    with store.read() as conn:
        return [_subscription(r) for r in conn.execute(stmt)]


def _own(store: Store, principal: Principal, sub_id: int) -> Any:
    with store.read() as conn:
        row = conn.execute(select(alert_subscriptions).where(alert_subscriptions.c.id == sub_id)).first()
    if row is None or (row.user_name != principal.user_id and not access.allowed(principal, "alert.admin")):
        raise NotFoundError(f"no alert subscription {sub_id} of yours")
    return row


def remove(store: Store, principal: Principal, sub_id: int) -> None:
    """Remove a subscription of the principal (anyone's with ``alert.admin``) and its deliveries."""
    row = _own(store, principal, sub_id)
    with store.transaction() as conn:
        conn.execute(alert_subscriptions.delete().where(alert_subscriptions.c.id == sub_id))
        audit.append(conn, action="alert.remove", **principal.audit_fields, site_id=row.site_id,
                     object_type="alert-subscription", object_id=str(sub_id),
                     before={"user": row.user_name, "channel": row.channel})


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """Something a subscriber may be told about."""

    kind: str
    key: str
    """Identifies the event: the same key is never delivered twice to one subscription."""
    site_id: str
    zone_ids: tuple[str, ...]
    priority: str | None
    subject: str
    data: dict[str, Any]
    approve_operation: str | None = None
    """For signature requests: who may sign (only they are told)."""
    created_at: dt.datetime | None = None


def _finding_events(store: Store, since: dt.datetime | None) -> list[Event]:
    from zonewarden.store.advisory_tables import (
        advisories,
        finding_explanations,
        findings,
        findings_explained,
    )

    stmt = (select(findings.c.id, findings.c.site_id, findings.c.tracking_id, findings.c.asset_id,
                   findings.c.zone_id, findings.c.priority, finding_explanations.c.cves, findings.c.created_at,
                   advisories.c.title)
            .select_from(findings_explained)  # the CVEs are stored with the explanation (migration 0008)
            .join(advisories, advisories.c.id == findings.c.advisory_row)
            .where(and_(findings.c.active.is_(True), findings.c.status == "affected")))
    if since is not None:
        stmt = stmt.where(findings.c.created_at >= since)
    with store.read() as conn:
        rows = conn.execute(stmt.order_by(findings.c.id)).all()
    return [
        Event("finding", f"finding:{r.id}", r.site_id, (r.zone_id,) if r.zone_id else (), r.priority,
              f"New affected finding on {r.site_id}: {r.tracking_id} on {r.asset_id} ({r.priority or 'no priority'})",
              {"finding": int(r.id), "advisory": r.tracking_id, "title": r.title, "asset": r.asset_id,
               "zone": r.zone_id, "priority": r.priority, "cves": list(r.cves or [])},
              created_at=_utc(r.created_at))
        for r in rows
    ]


def _site_events(store: Store, kinds: set[str], now: dt.datetime, only: set[str] | None) -> list[Event]:
    from zonewarden.services import patching, sites
    from zonewarden.services.queries import day
    from zonewarden.services.queries.patching import patch_status_of

    out: list[Event] = []
    for site_id in _site_ids(store):
        if only is not None and site_id not in only:
            continue
        doc = sites.load_document(store, site_id)
        today = day(doc.site.timezone, now.date())
        zone_of = {a.id: a.zone for a in doc.assets}
        if "sla" in kinds:
            status = patch_status_of(doc, as_of=today, findings=patching.finding_items(store, site_id)).status
            for item in status.items:
                left = (item.deadline - today).days
                if item.state.value == "open" and 0 <= left <= SLA_WARNING.days:
                    a = item.item
                    out.append(Event(
                        "sla", f"sla:{site_id}:{a.asset_id}:{a.patch_ref}:{item.deadline.isoformat()}", site_id,
                        (item.zone,) if item.zone else (), a.priority.value,
                        f"SLA on {site_id}: {a.patch_ref} on {a.asset_id} is due {item.deadline.isoformat()}",
                        {"asset": a.asset_id, "patch": a.patch_ref, "title": a.title, "zone": item.zone,
                         "deadline": item.deadline.isoformat(), "days_left": left, "priority": a.priority.value}))
        horizon = today + dt.timedelta(days=EXPIRY_WARNING.days)
        for d in doc.deferrals:
            zone = zone_of.get(d.asset)
            zones: tuple[str, ...] = (str(zone),) if zone else ()
            base: dict[str, Any] = {"deferral": d.id, "asset": d.asset, "patch": d.patch, "expires": d.expires.isoformat()}
            if "expiry" in kinds and d.approved is not None and today < d.expires <= horizon:
                out.append(Event("expiry", f"expiry:{site_id}:deferral:{d.id}:{d.expires.isoformat()}", site_id, zones,
                                 None, f"Deferral {d.id} on {site_id} expires {d.expires.isoformat()}", base))
        for c in doc.compensating_controls:
            zones = tuple(str(z) for z in c.zones)
            base = {"control": c.id, "title": c.title, "zones": list(c.zones), "expires": c.expires.isoformat()}
            if "expiry" in kinds and c.approved is not None and today < c.expires <= horizon:
                out.append(Event("expiry", f"expiry:{site_id}:control:{c.id}:{c.expires.isoformat()}", site_id, zones,
                                 None, f"Compensating control {c.id} on {site_id} expires {c.expires.isoformat()}",
                                 base))
        if "signature" in kinds:
            out += _signature_events(doc, site_id, today, zone_of)
    return out


_SIGNATURE_LABELS = {"compensating-control": ("control", "Compensating control"), "deferral": ("deferral", "Deferral"),
                     "waiver": ("waiver", "Waiver"), "patch-change": ("patch-change", "Patch change"),
                     "change": ("change", "Change record")}
"""Per inbox kind: the word in the delivery key (``control`` and ``deferral`` as before, so an
upgrade does not send those again) and the subject's noun."""


def _signature_events(doc: Any, site_id: str, today: dt.date, zone_of: Mapping[str, Any]) -> list[Event]:
    """A ``signature`` event per record the approvals inbox would list, with the zones it touches
    (for the subscriptions' zone filter) and the operation that signs it."""
    from zonewarden.services.queries.approvals import KINDS, pending_in

    zones_of: dict[tuple[str, str], tuple[str, ...]] = {}
    bodies: dict[tuple[str, str], dict[str, Any]] = {}
    for d in doc.deferrals:
        zones_of["deferral", d.id] = (str(zone_of[d.asset]),) if zone_of.get(d.asset) else ()
        bodies["deferral", d.id] = {"deferral": d.id, "asset": d.asset, "patch": d.patch}
    for c in doc.compensating_controls:
        zones_of["compensating-control", c.id] = tuple(str(z) for z in c.zones)
        bodies["compensating-control", c.id] = {"control": c.id, "zones": [str(z) for z in c.zones]}
    for kind, records in (("change", doc.changes), ("patch-change", doc.patch_changes)):
        for r in records:
            touched = {str(z) for z in r.zones} | {str(zone_of[a]) for a in r.assets if zone_of.get(a)}
            zones_of[kind, r.id] = tuple(sorted(touched))
    zone_ids = {str(z.id) for z in doc.zones}
    for w in doc.checks.waivers:
        if w.id is not None:
            zones_of["waiver", w.id] = tuple(sorted({o for o in w.objects if o in zone_ids}
                                                     | {str(zone_of[o]) for o in w.objects if zone_of.get(o)}))
    out: list[Event] = []
    for p in pending_in(doc, site_id, doc.site.name, "", KINDS):
        if p.expires is not None and p.expires <= today:
            continue  # it would already have run out: not worth a signature
        word, noun = _SIGNATURE_LABELS[p.kind]
        body: dict[str, Any] = {"kind": p.kind, "id": p.id, "title": p.title, **bodies.get((p.kind, p.id), {})}
        if p.expires is not None:
            body["expires"] = p.expires.isoformat()
        out.append(Event("signature", f"signature:{site_id}:{word}:{p.id}", site_id, zones_of.get((p.kind, p.id), ()),
                         None, f"{noun} {p.id} on {site_id} waits for approval", body,
                         approve_operation=KINDS[p.kind]))
    return out


def events(store: Store, *, kinds: Iterable[str] = EVENT_KINDS, now: dt.datetime | None = None,
           findings_since: dt.datetime | None = None, site_ids: Iterable[str] | None = None) -> list[Event]:
    """Every current event of ``kinds`` (what the checks see now, before any filter), of
    ``site_ids`` (default: every site)."""
    now = now or _now()
    wanted = set(kinds)
    only = None if site_ids is None else set(site_ids)
    out: list[Event] = []
    if "finding" in wanted:
        out += [e for e in _finding_events(store, findings_since) if only is None or e.site_id in only]
    if wanted & {"sla", "expiry", "signature"}:
        out += _site_events(store, wanted, now, only)
    return out


def _matches(sub: Any, principal: Principal, event: Event) -> bool:
    if event.kind not in sub.events:
        return False
    if sub.site_id is not None and sub.site_id != event.site_id:
        return False
    if sub.zone_id is not None and sub.zone_id not in event.zone_ids:
        return False
    if not access.allowed(principal, "site.read", event.site_id):
        return False  # roles changed since subscribing, or a customer: nothing internal
    if event.approve_operation is not None and not access.allowed(principal, event.approve_operation, event.site_id):
        return False
    if event.kind == "finding":
        created = _utc(sub.created_at)
        if event.created_at is not None and created is not None and event.created_at < created:
            return False  # findings from before the subscription are not news
        if sub.min_priority is not None:
            if event.priority is None or Priority(event.priority).rank < Priority(sub.min_priority).rank:
                return False
    elif sub.min_priority is not None and event.priority is not None:
        if Priority(event.priority).rank < Priority(sub.min_priority).rank:
            return False
    return True


def scan(store: Store, *, kinds: Iterable[str] = EVENT_KINDS, now: dt.datetime | None = None) -> int:
    """Record a pending delivery for every (subscription, event) that matches and was not
    recorded before; returns how many are new."""
    now = now or _now()
    with store.read() as conn:
        subs = list(conn.execute(select(alert_subscriptions)))
    if not subs:
        return 0
    # Only what some subscription wants: a site's document is loaded only for site events.
    kinds = tuple(k for k in kinds if any(k in s.events for s in subs))
    if not kinds:
        return 0
    oldest = min((_utc(s.created_at) or now) for s in subs)
    sites_wanted = None if any(s.site_id is None for s in subs) else {s.site_id for s in subs}
    found = events(store, kinds=kinds, now=now, findings_since=oldest, site_ids=sites_wanted)
    principals: dict[str, Principal | None] = {}
    new = 0
    for sub in subs:
        if sub.user_name not in principals:
            try:
                principals[sub.user_name] = identity.principal_of_user(store, sub.user_name, client="job")
            except PermissionDenied:
                principals[sub.user_name] = None  # a disabled account gets nothing
        principal = principals[sub.user_name]
        if principal is None:
            continue
        matching = [e for e in found if _matches(sub, principal, e)]
        if not matching:
            continue
        with store.transaction() as conn:
            known = {r.event_key for r in conn.execute(
                select(alert_deliveries.c.event_key).where(alert_deliveries.c.subscription_id == sub.id))}
            rows = [{"subscription_id": sub.id, "event_key": e.key[:500], "kind": e.kind, "site_id": e.site_id,
                     "payload": _payload(e, now), "state": "pending", "attempts": 0, "next_attempt_at": now,
                     "created_at": now} for e in matching if e.key[:500] not in known]
            if rows:
                conn.execute(alert_deliveries.insert(), rows)
                new += len(rows)
    return new


def _payload(e: Event, now: dt.datetime) -> dict[str, Any]:
    return {"event": e.kind, "key": e.key, "site": e.site_id, "subject": e.subject, "data": e.data,
            "detected_at": now.isoformat()}


# --- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where e-mail goes (``ZONEWARDEN_SMTP_*``: HOST, PORT, FROM, USER, PASSWORD, STARTTLS=1)."""

    host: str
    port: int = 25
    sender: str = "zonewarden@localhost"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 20.0

    @classmethod
    def from_env(cls) -> SmtpConfig | None:
        host = os.environ.get("ZONEWARDEN_SMTP_HOST")
        if not host:
            return None
        try:
            port = int(os.environ.get("ZONEWARDEN_SMTP_PORT", "25"))
        except ValueError as exc:
            raise InputError("ZONEWARDEN_SMTP_PORT must be a port number") from exc
        return cls(host, port, os.environ.get("ZONEWARDEN_SMTP_FROM", "zonewarden@localhost"),
                   os.environ.get("ZONEWARDEN_SMTP_USER"), os.environ.get("ZONEWARDEN_SMTP_PASSWORD"),
                   os.environ.get("ZONEWARDEN_SMTP_STARTTLS", "") in ("1", "true", "yes"))


def _one_line(text: str, limit: int = 200) -> str:
    return re.sub(r"[\r\n\t\x00-\x1f\x7f]+", " ", text).strip()[:limit]


def send_email(config: SmtpConfig | None, to: str, payload: Mapping[str, Any]) -> None:
    if config is None:
        raise InputError("no SMTP server configured: set ZONEWARDEN_SMTP_HOST (and _PORT, _FROM)")
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = to
    msg["Subject"] = "[zonewarden] " + _one_line(str(payload.get("subject", "alert")))
    lines = [str(payload.get("subject", "")), ""]
    for k, v in dict(payload.get("data") or {}).items():
        lines.append(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}")
    lines += ["", f"event: {payload.get('event')} ({payload.get('key')})", f"detected: {payload.get('detected_at')}"]
    msg.set_content("\n".join(lines))
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.user and config.password:
            smtp.login(config.user, config.password)
        smtp.send_message(msg)


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook(secret: str, body: bytes, timestamp: str, signature: str, *,
                   now: dt.datetime | None = None, window: dt.timedelta = REPLAY_WINDOW) -> bool:
    """What a receiver checks: the signature over timestamp + body, and a timestamp within
    ``window`` of now (a replayed request is refused)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    now = now or _now()
    if abs(now.timestamp() - ts) > window.total_seconds():
        return False
    return hmac.compare_digest(sign_webhook(secret, body, ts), signature)


def send_webhook(url: str, secret: str, payload: Mapping[str, Any], *, timeout: float = 10.0) -> None:
    import httpx

    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    ts = int(_now().timestamp())
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(ts),
               SIGNATURE_HEADER: sign_webhook(secret, body, ts), "User-Agent": "zonewarden-alerts"}
    response = httpx.post(url, content=body, headers=headers, timeout=timeout, follow_redirects=False)
    if response.status_code >= 300:
        raise OSError(f"webhook answered HTTP {response.status_code}")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int
    retrying: int
    failed: int

    def as_json(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed}


def _send(sub: Any, payload: Mapping[str, Any], smtp: SmtpConfig | None) -> None:
    if sub.channel == "email":
        send_email(smtp, sub.target, payload)
    else:
        send_webhook(sub.target, sub.secret or "", payload)


def deliver_pending(store: Store, *, smtp: SmtpConfig | None = None, now: dt.datetime | None = None) -> DeliveryReport:
    """Send every pending delivery that is due; a failure is retried later with backoff and
    marked ``failed`` after ``MAX_ATTEMPTS`` (its error stays in ``last_error``). A delivery whose
    subscriber may no longer read its site (or whose account was disabled) is ``dropped``."""
    now = now or _now()
    smtp = smtp or SmtpConfig.from_env()
    with store.read() as conn:
        due = list(conn.execute(
            select(alert_deliveries, alert_subscriptions.c.channel, alert_subscriptions.c.target,
                   alert_subscriptions.c.secret, alert_subscriptions.c.user_name)
            .join(alert_subscriptions, alert_subscriptions.c.id == alert_deliveries.c.subscription_id)
            .where(and_(alert_deliveries.c.state == "pending", alert_deliveries.c.next_attempt_at <= now))
            .order_by(alert_deliveries.c.id)
        ))
    sent = retrying = failed = 0
    readers: dict[str, Principal | None] = {}
    for d in due:
        attempts = int(d.attempts) + 1
        if d.user_name not in readers:
            try:
                readers[d.user_name] = identity.principal_of_user(store, d.user_name, client="job")
            except PermissionDenied:
                readers[d.user_name] = None
        reader = readers[d.user_name]
        if reader is None or (d.site_id is not None and not access.allowed(reader, "site.read", d.site_id)):
            # Access lost between finding the event and sending it: nothing is sent.
            with store.transaction() as conn:
                conn.execute(update(alert_deliveries).where(alert_deliveries.c.id == d.id).values(
                    state="dropped", last_error=f"not sent: {d.user_name} may no longer read site {d.site_id}"))
            continue
        try:
            _send(d, d.payload, smtp)
            values: dict[str, Any] = {"state": "sent", "attempts": attempts, "sent_at": _now(), "last_error": None}
            sent += 1
        except (OSError, smtplib.SMTPException, InputError) as exc:
            error = _one_line(f"{type(exc).__name__}: {exc}", 2000)
            if attempts >= MAX_ATTEMPTS:
                values = {"state": "failed", "attempts": attempts, "last_error": error}
                failed += 1
            else:
                wait = RETRY_BACKOFF * (2 ** (attempts - 1))
                values = {"attempts": attempts, "last_error": error, "next_attempt_at": now + wait}
                retrying += 1
        except Exception as exc:  # noqa: BLE001 - httpx errors and the like: recorded, retried
            error = _one_line(f"{type(exc).__name__}: {exc}", 2000)
            values = {"attempts": attempts, "last_error": error,
                      "next_attempt_at": now + RETRY_BACKOFF * (2 ** (attempts - 1))}
            if attempts >= MAX_ATTEMPTS:
                values["state"] = "failed"
                failed += 1
            else:
                retrying += 1
        with store.transaction() as conn:
            conn.execute(update(alert_deliveries).where(alert_deliveries.c.id == d.id).values(**values))
    return DeliveryReport(sent, retrying, failed)


def scan_and_deliver(store: Store, *, kinds: Iterable[str] = EVENT_KINDS, smtp: SmtpConfig | None = None,
                     now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduled check: record new events, then send what is due."""
    new = scan(store, kinds=kinds, now=now)
    return {"new": new, **deliver_pending(store, smtp=smtp, now=now).as_json()}


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: int
    kind: str
    site_id: str | None
    subject: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    sent_at: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "subscription": self.subscription_id, "kind": self.kind, "site": self.site_id,
                "subject": self.subject, "state": self.state, "attempts": self.attempts,
                "next_attempt_at": self.next_attempt_at.isoformat(), "last_error": self.last_error,
                "sent_at": self.sent_at.isoformat() if self.sent_at else None}


def list_deliveries(store: Store, principal: Principal, *, state: str | None = None, limit: int = 100) -> list[Delivery]:
    """Deliveries of the principal's subscriptions (everyone's with ``alert.admin``), newest first."""
    stmt = (select(alert_deliveries).join(alert_subscriptions,
                                          alert_subscriptions.c.id == alert_deliveries.c.subscription_id)
            .order_by(alert_deliveries.c.id.desc()).limit(max(1, min(limit, 1000))))
    if not access.allowed(principal, "alert.admin"):
        stmt = stmt.where(alert_subscriptions.c.user_name == principal.user_id)
    if state is not None:
        stmt = stmt.where(alert_deliveries.c.state == state)
    with store.read() as conn:
        return [Delivery(int(r.id), int(r.subscription_id), r.kind, r.site_id, str(r.payload.get("subject", "")),
                         r.state, int(r.attempts), _utc(r.next_attempt_at) or _now(), r.last_error, _utc(r.sent_at))
                for r in conn.execute(stmt)]


def send_test(store: Store, principal: Principal, sub_id: int, *, smtp: SmtpConfig | None = None) -> None:
    """Send a test alert through a subscription now (not recorded as an event; errors raise)."""
    row = _own(store, principal, sub_id)
    payload = {"event": "test", "key": f"test:{sub_id}", "site": row.site_id,
               "subject": f"Test alert for subscription {sub_id}", "data": {"subscription": sub_id},
               "detected_at": _now().isoformat()}
    try:
        _send(row, payload, smtp or SmtpConfig.from_env())
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"the test alert of subscription {sub_id} was not delivered: {_one_line(str(exc))}") from exc


# --- stale feeds ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaleFeed:
    url: str
    last_sync_at: dt.datetime
    overdue: dt.timedelta
    """How far past its interval the provider is."""
    interval: dt.timedelta | None = None


def stale_feeds(store: Store, *, interval: dt.timedelta | None = None, now: dt.datetime | None = None) -> list[StaleFeed]:
    """Every synced CSAF provider whose last sync is older than its interval (its schedule's, see
    ``services.jobs.schedules``; ``interval`` overrides them all), most overdue first."""
    now = now or _now()
    intervals: dict[str, dt.timedelta] = {}
    if interval is None:
        from zonewarden.services import jobs

        intervals = {s.args.get("url", ""): s.interval for s in jobs.schedules(store) if s.name == "csaf.sync"}
    out = []
    for s in csaf_sync.sources(store):
        last = s.last_sync_at if s.last_sync_at.tzinfo else s.last_sync_at.replace(tzinfo=dt.UTC)
        every = interval or intervals.get(s.url) or dt.timedelta(hours=24)
        if now - last > every:
            out.append(StaleFeed(s.url, last, now - last - every, every))
    return sorted(out, key=lambda f: f.overdue, reverse=True)
