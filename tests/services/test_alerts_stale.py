import datetime as dt

from zonewarden.services.alerts import stale_feeds
from zonewarden.store.db import open_store
from zonewarden.store.sync_tables import csaf_sync_sources


def test_a_provider_past_its_interval_is_stale_and_a_fresh_one_is_not(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'z.db'}")
    now = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)
    with store.transaction() as conn:
        conn.execute(csaf_sync_sources.insert(), [
            {"url": "https://old.example/", "kind": "rolie", "last_sync_at": now - dt.timedelta(hours=30), "last_report": {}},
            {"url": "https://new.example/", "kind": "rolie", "last_sync_at": now - dt.timedelta(hours=2), "last_report": {}},
        ])
    stale = stale_feeds(store, interval=dt.timedelta(hours=24), now=now)
    assert [f.url for f in stale] == ["https://old.example/"]
    assert stale[0].overdue == dt.timedelta(hours=6)
