"""``zonewarden alerts``: subscribe to alerts by e-mail or signed webhook, list, remove, test."""

from __future__ import annotations

import click

from zonewarden.cli.common import (
    caller,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
)


@click.group("alerts")
def alerts_group() -> None:
    """Alerts by e-mail (SMTP: ZONEWARDEN_SMTP_HOST, _PORT, _FROM, _USER, _PASSWORD, _STARTTLS)
    or signed webhooks, filtered by site, zone and priority. The worker's checks find the
    events (new affected findings, SLAs about to break, expiring deferrals and compensating
    controls, signature requests) and send each once.

    \b
    Examples:
      zonewarden alerts subscribe --email ot-team@example.com --site rheinfeld --min-priority out-of-cycle
      zonewarden alerts subscribe --webhook https://chat.example/hooks/zw --event finding --event signature
      zonewarden alerts list
      zonewarden alerts test 3
    """


@alerts_group.command("subscribe")
@click.option("--email", default=None, metavar="ADDRESS", help="Send alerts to this e-mail address.")
@click.option("--webhook", default=None, metavar="URL", help="POST alerts to this URL, signed (HMAC-SHA256).")
@click.option("--event", "kinds", multiple=True, type=click.Choice(["finding", "sla", "expiry", "signature"]),
              help="Event kind; repeat for several (default: all).")
@click.option("--site", "site_id", default=None, help="Only this site (default: every site you may read).")
@click.option("--zone", "zone_id", default=None, help="Only this zone (needs --site).")
@click.option("--min-priority", type=click.Choice(["defer", "scheduled", "out-of-cycle", "immediate"]), default=None,
              help="Only findings (and SLAs) at or above this SSVC priority.")
@format_option("table", "json")
@db_option
@handle_errors
def subscribe_cmd(email: str | None, webhook: str | None, kinds: tuple[str, ...], site_id: str | None,
                  zone_id: str | None, min_priority: str | None, fmt: str, db_url: str | None) -> None:
    """Subscribe yourself to alerts. A webhook's signing key is printed once: keep it.

    \b
    Examples:
      zonewarden alerts subscribe --email ot-team@example.com --site rheinfeld-os --min-priority out-of-cycle
      zonewarden alerts subscribe --webhook https://chat.example/hooks/zw --event signature
    """
    from zonewarden.errors import InputError
    from zonewarden.services import alerts

    if (email is None) == (webhook is None):
        raise InputError("give exactly one of --email ADDRESS or --webhook URL")
    store, principal = caller(db_url)
    sub = alerts.subscribe(store, principal, channel="email" if email else "webhook",
                           target=email or webhook or "", events=kinds or alerts.EVENT_KINDS, site_id=site_id,
                           zone_id=zone_id, min_priority=min_priority)
    if fmt == "json":
        emit_json(sub.as_json())
        return
    note(f"subscription {sub.id}: {sub.channel} to {sub.target} for {', '.join(sub.events)}")
    if sub.secret:
        note("webhook signing key (shown once; the receiver checks X-Zonewarden-Signature with it):")
        click.echo(sub.secret)


@alerts_group.command("list")
@click.option("--all", "all_users", is_flag=True, help="Everyone's subscriptions (admin).")
@click.option("--deliveries", is_flag=True, help="List the deliveries (sent, pending with their error, failed).")
@format_option("table", "json", "csv")
@db_option
@handle_errors
def list_cmd(all_users: bool, deliveries: bool, fmt: str, db_url: str | None) -> None:
    """Your subscriptions, or with --deliveries what was sent and what failed.

    \b
    Examples:
      zonewarden alerts list
      zonewarden alerts list --deliveries --format json
    """
    from zonewarden.services import alerts

    store, principal = caller(db_url)
    if deliveries:
        found = alerts.list_deliveries(store, principal)
        if fmt == "json":
            emit_json({"deliveries": [d.as_json() for d in found]})
        else:
            emit_rows([d.as_json() for d in found], ["id", "subscription", "kind", "state", "attempts", "subject",
                                                     "last_error"], fmt, title="Alert deliveries")
        return
    subs = alerts.list_subscriptions(store, principal, all_users=all_users)
    if fmt == "json":
        emit_json({"subscriptions": [s.as_json() for s in subs]})
    else:
        rows = [{**s.as_json(), "events": ", ".join(s.events)} for s in subs]
        emit_rows(rows, ["id", "user", "channel", "target", "events", "site", "zone", "min_priority"], fmt,
                  title="Alert subscriptions")


@alerts_group.command("remove")
@click.argument("subscription", type=int)
@db_option
@handle_errors
def remove_cmd(subscription: int, db_url: str | None) -> None:
    """Remove one of your subscriptions (admin: anyone's).

    \b
    Example:
      zonewarden alerts remove 3
    """
    from zonewarden.services import alerts

    store, principal = caller(db_url)
    alerts.remove(store, principal, subscription)
    note(f"subscription {subscription} removed")


@alerts_group.command("test")
@click.argument("subscription", type=int)
@db_option
@handle_errors
def test_cmd(subscription: int, db_url: str | None) -> None:
    """Send a test alert through one of your subscriptions now (exit 2 with the reason if it fails).

    \b
    Example:
      zonewarden alerts test 3
    """
    from zonewarden.services import alerts

    store, principal = caller(db_url)
    alerts.send_test(store, principal, subscription)
    note(f"test alert sent through subscription {subscription}")


commands = [alerts_group]
