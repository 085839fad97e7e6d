"""Placeholder, replaced below."""

from zonewarden.store.db import Store


def apply(store: Store, *, site_ids: list[str] | None = None) -> int:
    return 0
