"""Alerts: e-mail through a real SMTP server (aiosmtpd on 127.0.0.1), signed webhooks to a
local http.server, filters, one delivery per event, retries with the error visible, and
nothing for those who may not read the site."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from zonewarden.domain.patching import Deferral
from zonewarden.errors import NotFoundError, PermissionDenied
from zonewarden.io.sitefile import load_site
from zonewarden.services import advisories as svc
from zonewarden.services import alerts, identity, jobs, patching
from zonewarden.services.principal import SYSTEM, local_principal
from zonewarden.services.sites import import_documents

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "examples" / "pharma-plant"
EXAMPLES = ROOT / "examples" / "advisories"
SITE = "rheinfeld-os"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[alerts.SmtpConfig, list[Any]]]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email_policy)))
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield alerts.SmtpConfig("127.0.0.1", port, sender="zw@plant.example"), received
    finally:
        controller.stop()


class _Hook:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0


@pytest.fixture
def webhook() -> Iterator[tuple[str, _Hook]]:
    hook = _Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.requests.append(({k: v for k, v in self.headers.items()}, body))
            status = 500 if hook.fail_next > 0 else 204
            hook.fail_next -= 1
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", hook
    finally:
        server.shutdown()
        server.server_close()


def _plant(store: Any) -> None:
    import_documents(store, [load_site(PLANT)], reason="test", principal=local_principal(name="setup"))


def _advisories(store: Any) -> None:
    svc.ingest_bytes(store, svc.read_items(svc.iter_paths([EXAMPLES])), principal=local_principal(name="setup"))


def test_new_affected_findings_are_mailed_once_by_priority_and_zone(store, smtp) -> None:  # type: ignore[no-untyped-def]
    config, received = smtp
    _plant(store)
    ann = local_principal(name="ann")
    urgent = alerts.subscribe(store, ann, channel="email", target="ann@plant.example", events=["finding"],
                              min_priority="immediate")
    bms = alerts.subscribe(store, ann, channel="email", target="bms@plant.example", events=["finding"],
                           site_id=SITE, zone_id="bms")
    _advisories(store)  # the findings arrive after the subscriptions
    first = alerts.scan_and_deliver(store, kinds=["finding"], smtp=config)
    assert first == {"new": 3, "sent": 3, "retrying": 0, "failed": 0}
    by_rcpt: dict[str, list[str]] = {}
    for rcpts, msg in received:
        by_rcpt.setdefault(rcpts[0], []).append(msg["Subject"])
    assert by_rcpt["ann@plant.example"] == [
        "[zonewarden] New affected finding on rheinfeld-os: ZW-EXAMPLE-2026-006 on pack-ewon (immediate)"]
    assert sorted(by_rcpt["bms@plant.example"]) == [
        f"[zonewarden] New affected finding on rheinfeld-os: ZW-EXAMPLE-2026-005 on bms-nae-{n} (scheduled)"
        for n in (1, 2)]
    body = received[0][1].get_content()
    assert "advisory: ZW-EXAMPLE-2026-006" in body and "asset: pack-ewon" in body
    # The checks run again (every few minutes): nothing is sent twice.
    assert alerts.scan_and_deliver(store, kinds=["finding"], smtp=config) == {"new": 0, "sent": 0, "retrying": 0,
                                                                              "failed": 0}
    assert len(received) == 3
    assert {d.state for d in alerts.list_deliveries(store, ann)} == {"sent"}
    assert {s.id for s in alerts.list_subscriptions(store, ann)} == {urgent.id, bms.id}


def test_a_subscription_after_the_findings_reports_no_old_news(store, smtp) -> None:  # type: ignore[no-untyped-def]
    config, received = smtp
    _plant(store)
    _advisories(store)
    alerts.subscribe(store, local_principal(name="ann"), channel="email", target="ann@plant.example",
                     events=["finding"])
    assert alerts.scan(store, kinds=["finding"]) == 0


def test_signed_webhook_is_retried_after_a_failure_and_verifies(store, webhook) -> None:  # type: ignore[no-untyped-def]
    url, hook = webhook
    _plant(store)
    ann = local_principal(name="ann")
    sub = alerts.subscribe(store, ann, channel="webhook", target=url, events=["expiry"], site_id=SITE)
    assert sub.secret and len(sub.secret) >= 40
    assert all(s.secret is None for s in alerts.list_subscriptions(store, ann))  # shown once only
    now = dt.datetime(2027, 2, 20, 9, tzinfo=dt.UTC)
    hook.fail_next = 1
    first = alerts.scan_and_deliver(store, kinds=["expiry"], now=now)
    # DEF-2026-009 and CC-COMP-HMI expire on 2027-03-15: the first POST fails, the second is sent.
    assert first == {"new": 2, "sent": 1, "retrying": 1, "failed": 0}
    (waiting,) = alerts.list_deliveries(store, ann, state="pending")
    assert waiting.attempts == 1 and waiting.last_error == "OSError: webhook answered HTTP 500"
    assert waiting.next_attempt_at == now + alerts.RETRY_BACKOFF
    assert alerts.deliver_pending(store, now=now).as_json() == {"sent": 0, "retrying": 0, "failed": 0}  # not yet
    later = alerts.deliver_pending(store, now=now + dt.timedelta(minutes=2))
    assert later.sent == 1 and len(hook.requests) == 3
    subjects = sorted(json.loads(b)["subject"] for _, b in hook.requests[1:])
    assert subjects == ["Compensating control CC-COMP-HMI on rheinfeld-os expires 2027-03-15",
                        "Deferral DEF-2026-009 on rheinfeld-os expires 2027-03-15"]
    headers, body = hook.requests[-1]
    ts, sig = headers[alerts.TIMESTAMP_HEADER], headers[alerts.SIGNATURE_HEADER]
    assert sig.startswith("sha256=")
    assert alerts.verify_webhook(sub.secret, body, ts, sig)
    assert not alerts.verify_webhook(sub.secret, body + b" ", ts, sig)  # tampered
    assert not alerts.verify_webhook("other-key", body, ts, sig)
    replay = dt.datetime.fromtimestamp(int(ts), dt.UTC) + dt.timedelta(minutes=10)
    assert not alerts.verify_webhook(sub.secret, body, ts, sig, now=replay)  # replayed later
    assert sub.secret not in body.decode() and sub.secret not in json.dumps(dict(headers))


def test_webhooks_go_over_https_or_to_this_machine(store) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.errors import InputError

    ann = local_principal(name="ann")
    for bad, why in (("http://chat.example/hook", "use https://"), ("ftp://x.example/", "not an http"),
                     ("https://", "not")):
        with pytest.raises(InputError, match=why):
            alerts.subscribe(store, ann, channel="webhook", target=bad)
    assert alerts.subscribe(store, ann, channel="webhook", target="https://chat.example/hook").secret
    assert alerts.subscribe(store, ann, channel="webhook", target="http://localhost:8080/relay").secret


def test_a_delivery_that_keeps_failing_is_marked_failed_with_its_error(store) -> None:  # type: ignore[no-untyped-def]
    _plant(store)
    ann = local_principal(name="ann")
    alerts.subscribe(store, ann, channel="webhook", target=f"http://127.0.0.1:{_free_port()}/gone",
                     events=["expiry"])
    now = dt.datetime(2027, 2, 20, 9, tzinfo=dt.UTC)
    alerts.scan(store, kinds=["expiry"], now=now)
    for i in range(alerts.MAX_ATTEMPTS):
        alerts.deliver_pending(store, now=now + dt.timedelta(days=i))
    states = alerts.list_deliveries(store, ann)
    assert {d.state for d in states} == {"failed"} and {d.attempts for d in states} == {alerts.MAX_ATTEMPTS}
    assert all("ConnectError" in (d.last_error or "") for d in states)


def test_sla_alerts_come_from_the_patch_deadlines(store, smtp) -> None:  # type: ignore[no-untyped-def]
    config, received = smtp
    _plant(store)
    alerts.subscribe(store, local_principal(name="ann"), channel="email", target="ann@plant.example", events=["sla"])
    assert alerts.scan_and_deliver(store, kinds=["sla"], smtp=config,
                                   now=dt.datetime(2027, 1, 10, 9, tzinfo=dt.UTC))["sent"] == 2
    assert {m["Subject"] for _, m in received} == {
        f"[zonewarden] SLA on rheinfeld-os: WINCC-V8-UPD4 on sup-wincc-cl-{n} is due 2027-01-15" for n in (1, 2)}


def test_customers_get_nothing_and_revoked_readers_stop_receiving(store, webhook) -> None:  # type: ignore[no-untyped-def]
    url, hook = webhook
    _plant(store)
    boot = local_principal(name="setup")
    identity.add_user(store, boot, "root", "Root Admin", "correct horse battery staple")
    admin = identity.principal_of_user(store, "root", client="cli")
    for name, role in (("cust", "customer"), ("vic", "viewer"), ("eng", "engineer"), ("own", "asset-owner")):
        identity.add_user(store, admin, name, name.title(), "correct horse battery staple")
        identity.grant_role(store, admin, name, role, SITE)
    customer = identity.principal_of_user(store, "cust")
    with pytest.raises(PermissionDenied):
        alerts.subscribe(store, customer, channel="webhook", target=url, site_id=SITE)
    with pytest.raises(PermissionDenied):
        alerts.subscribe(store, customer, channel="webhook", target=url)
    vic = identity.principal_of_user(store, "vic")
    alerts.subscribe(store, vic, channel="webhook", target=url, events=["expiry"])
    now = dt.datetime(2027, 2, 20, 9, tzinfo=dt.UTC)
    assert alerts.scan(store, kinds=["expiry"], now=now) == 2  # found while vic may read the site
    identity.grant_role(store, admin, "vic", "viewer", SITE, grant=False)
    assert alerts.deliver_pending(store, now=now).sent == 0  # revoked before sending: nothing goes out
    assert {(d.state, d.last_error) for d in alerts.list_deliveries(store, admin)} == {
        ("dropped", f"not sent: vic may no longer read site {SITE}")}
    assert alerts.scan_and_deliver(store, kinds=["expiry"], now=now + dt.timedelta(days=1))["new"] == 0
    assert hook.requests == []
    # Another user's subscription is not theirs to see or remove; the admin may.
    eng = identity.principal_of_user(store, "eng")
    with pytest.raises(NotFoundError):
        alerts.remove(store, eng, 1)
    assert [s.user for s in alerts.list_subscriptions(store, admin, all_users=True)] == ["vic"]
    with pytest.raises(PermissionDenied):
        alerts.list_subscriptions(store, eng, all_users=True)
    alerts.remove(store, admin, 1)
    assert alerts.list_subscriptions(store, admin, all_users=True) == []


def test_signature_requests_reach_only_those_who_may_sign(store, webhook) -> None:  # type: ignore[no-untyped-def]
    url, hook = webhook
    _plant(store)
    boot = local_principal(name="setup")
    identity.add_user(store, boot, "root", "Root Admin", "correct horse battery staple")
    admin = identity.principal_of_user(store, "root", client="cli")
    for name, role in (("eng", "engineer"), ("own", "asset-owner")):
        identity.add_user(store, admin, name, name.title(), "correct horse battery staple")
        identity.grant_role(store, admin, name, role, SITE)
    eng, own = identity.principal_of_user(store, "eng"), identity.principal_of_user(store, "own")
    alerts.subscribe(store, eng, channel="webhook", target=url + "/eng", events=["signature"])
    alerts.subscribe(store, own, channel="webhook", target=url + "/own", events=["signature"], site_id=SITE)
    doc = load_site(PLANT)
    person = doc.people[0].id
    pending = Deferral(id="DEF-ALERT-1", asset="comp-hmi-p1", patch="KB-ALERT", reason="line runs a validated batch",
                       compensating_controls=("CC-COMP-HMI",), requested_by=person, requested=dt.date(2026, 12, 1),
                       expires=dt.date(2027, 2, 1))
    patching.record_deferral(store, SITE, pending, principal=eng)
    now = dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)
    from zonewarden.services.queries.approvals import pending as inbox

    waiting = {(p.kind, p.id) for p in inbox(store, own) if p.expires is None or p.expires > now.date()}
    assert ("deferral", "DEF-ALERT-1") in waiting and len(waiting) > 1  # the plant has a proposed change too
    assert alerts.scan_and_deliver(store, kinds=["signature"], now=now)["sent"] == len(waiting)
    payloads = [json.loads(body) for _, body in hook.requests]
    # what the owner's inbox lists, each once, and nothing to the engineer (who may not sign)
    assert {(p["data"]["kind"], p["data"]["id"]) for p in payloads} == waiting
    assert all(p["event"] == "signature" for p in payloads)
    deferral = next(p for p in payloads if p["data"]["id"] == "DEF-ALERT-1")
    assert deferral["data"]["deferral"] == "DEF-ALERT-1" and deferral["data"]["asset"] == "comp-hmi-p1"
    assert all(h["User-Agent"] == "zonewarden-alerts" for h, _ in hook.requests)
    assert alerts.scan_and_deliver(store, kinds=["signature"], now=now)["sent"] == 0  # once per request


def test_the_scheduled_jobs_run_the_checks(store, smtp) -> None:  # type: ignore[no-untyped-def]
    config, received = smtp
    _plant(store)
    alerts.subscribe(store, local_principal(name="ann"), channel="email", target="ann@plant.example",
                     events=["finding"])
    _advisories(store)
    import os

    os.environ["ZONEWARDEN_SMTP_HOST"], os.environ["ZONEWARDEN_SMTP_PORT"] = config.host, str(config.port)
    try:
        job_id = jobs.enqueue(store, "alerts.scan", principal=SYSTEM)
        done = jobs.run_job(store, job_id)
    finally:
        del os.environ["ZONEWARDEN_SMTP_HOST"], os.environ["ZONEWARDEN_SMTP_PORT"]
    assert done.state == jobs.SUCCEEDED and done.result == {"new": 6, "sent": 6, "retrying": 0, "failed": 0}
    assert len(received) == 6


def test_a_stale_feed_is_judged_by_its_own_schedule(store) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.store.sync_tables import csaf_sync_sources

    now = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)
    with store.transaction() as conn:
        conn.execute(csaf_sync_sources.insert(), [
            {"url": "https://fast.example/", "kind": "rolie", "last_sync_at": now - dt.timedelta(hours=8),
             "last_report": {}},
            {"url": "https://daily.example/", "kind": "rolie", "last_sync_at": now - dt.timedelta(hours=8),
             "last_report": {}},
        ])
    jobs.set_schedule(store, "csaf.sync", every=dt.timedelta(hours=6), args={"url": "https://fast.example/"},
                      principal=local_principal(name="ann"))
    stale = alerts.stale_feeds(store, now=now)
    assert [(f.url, f.overdue) for f in stale] == [("https://fast.example/", dt.timedelta(hours=2))]
