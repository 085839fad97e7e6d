"""The database for the front doors (CLI, API, jobs), which do not import the store themselves.

The store layer is the services' business: a front door opens the database here and hands the
:class:`Store` to service calls, without knowing its tables (the layering test holds the CLI to
that).
"""

from __future__ import annotations

from zonewarden.store.db import Store, open_store

__all__ = ["Store", "open_store"]
