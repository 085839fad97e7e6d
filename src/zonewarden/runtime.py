"""Process-level helpers shared by engines and services (no I/O)."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a burst of allocations.

    Matching and ingest allocate hundreds of thousands of small objects (tuples, parsed JSON,
    models) that reference counting frees on its own; each allocation burst would otherwise
    make the collector walk the whole, growing heap again (it cost matching half its time
    and ingest a quarter). The collector is restored as it was, also on errors. Callers that
    run long keep memory bounded with :func:`collect_young` between batches.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect_young() -> None:
    """Free reference cycles among the objects allocated since the last collection (cheap:
    the long-lived heap is not walked)."""
    gc.collect(1)


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``: SQL ``IN (...)`` lists stay under the
    databases' parameter limits."""
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
