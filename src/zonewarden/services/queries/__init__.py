"""Query services: the read-only results the CLI and the API both render.

A command used to load the site, call an engine and build its JSON inside the click function;
the API would have had to do it all again, and the two would drift. Each query here does it
once and returns data: a small frozen dataclass holding the engine's result, with ``as_dict()``
(the JSON document, the same bytes for ``--format json`` and the API) and, where the command
prints a table or CSV, ``rows()``. Front doors only parse options, call the query and render.

Each area has its module (one job per module):

- :mod:`.architecture`: ``check``, ``paths``, ``diagram``;
- :mod:`.gap`: the IEC 62443-3-3 gap, its explanation, the ISO/IEC 27001 Annex A view;
- :mod:`.risk`: ``slt`` (and its history), ``risks``, ``risk-method``, ``due``;
- :mod:`.changes`: ``diff`` of two versions of a site;
- :mod:`.patching`: ``patch status`` (``patch plan`` still builds its plan in the CLI);
- :mod:`.report`: the evidence package of ``report`` (files in memory; the CLI writes them);
- :mod:`.advisory_detail`: the advisories list (searched, paged) and one advisory in detail;
- :mod:`.asset_findings`: one asset's advisory findings rolled up by the fix that closes them.

Every stored-site query takes the store, a required ``principal`` keyword and the site id (or
``None``: the only site the principal can see), and authorizes the read operation first
(``site.read``; ``report.auditor`` / ``report.customer`` for a package): a denial is recorded
and raised before anything is loaded. Each also has an ``*_of(doc, ...)`` twin working on a
document already in hand (``--file``: a site file checked in CI without a database), so both
paths give the same result from the same code. Queries never write.
"""

from __future__ import annotations

import datetime as dt

from zonewarden.errors import InputError
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store


def site_of(store: Store, principal: Principal, site_id: str | None, operation: str = "site.read") -> str:
    """The stored site a query reads: ``site_id``, or the only one ``principal`` can see;
    ``principal`` must be allowed ``operation`` on it (a denial is audited and raised)."""
    from zonewarden.services.sites import resolve_site_id

    return resolve_site_id(store, site_id, principal, operation)


def day(timezone: str | None, as_of: str | dt.date | None) -> dt.date:
    """The date a query evaluates: ``as_of`` (a date, or text read in the site's time zone as
    ``--as-of`` is) or today where the site is (:mod:`zonewarden.clock`)."""
    from zonewarden.clock import site_today

    if isinstance(as_of, dt.date):
        return as_of
    try:
        return site_today(timezone, as_of)
    except InputError:
        raise InputError(
            f"--as-of {as_of!r} is not a date; write it as YYYY-MM-DD (or an ISO date-time with offset)"
        ) from None
