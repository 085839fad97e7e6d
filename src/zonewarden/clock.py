"""One meaning of "today" (issue 17.10): the calendar date where the site is.

Every command that evaluates dates (``check``, ``gap``, ``report``, ``diagram``, ``risks``,
``due``, ``patch``) and every service that stamps a date asks here, so a plant in Auckland and
a laptop in Berlin agree on which day it is. The site's ``site.timezone`` decides; a site
without one is on UTC. ``--as-of`` is read in the same zone (:func:`site_date`). Engines stay
free of the clock: they are handed the date this module gives.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from zonewarden.engines.cadence import site_date


def now_utc() -> dt.datetime:
    """The current instant (a seam for tests that need another day)."""
    return dt.datetime.now(dt.UTC)


def site_today(timezone: str | None, as_of: str | None = None) -> dt.date:
    """``as_of`` as the site's date, or today's date in the site's ``timezone`` (UTC when the
    site sets none). ``as_of`` is ``YYYY-MM-DD`` or an ISO date-time; one with an offset is
    converted to the site's zone first, so the same instant gives the same day anywhere."""
    if as_of is not None:
        return site_date(as_of, timezone)
    return now_utc().astimezone(zoneinfo.ZoneInfo(timezone or "UTC")).date()


__all__ = ["now_utc", "site_today"]
