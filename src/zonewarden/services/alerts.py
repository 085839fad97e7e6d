"""Alerts (issue 13). So far only the stale-feed check the dashboard shows; subscriptions and
delivery (SMTP, signed webhooks) are not written yet (see docs/jobs.md once they are)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zonewarden.services import csaf_sync
from zonewarden.store.db import Store


@dataclass(frozen=True, slots=True)
class StaleFeed:
    url: str
    last_sync_at: dt.datetime
    overdue: dt.timedelta
    """How far past its interval the provider is."""


def stale_feeds(store: Store, *, interval: dt.timedelta, now: dt.datetime | None = None) -> list[StaleFeed]:
    """Every synced CSAF provider whose last sync is older than ``interval``, most overdue first."""
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for s in csaf_sync.sources(store):
        last = s.last_sync_at if s.last_sync_at.tzinfo else s.last_sync_at.replace(tzinfo=dt.UTC)
        if now - last > interval:
            out.append(StaleFeed(s.url, last, now - last - interval))
    return sorted(out, key=lambda f: f.overdue, reverse=True)
