"""Process-level helpers shared by engines and services (no I/O)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class _GcPause:
    """Shared state of :func:`gc_paused`: how many pauses are open, whether the collector was
    on when the first began, and whether pausing is allowed in this process at all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.restore = False
        self.allowed = True


_pause = _GcPause()


def allow_gc_pause(allowed: bool) -> None:
    """Whether :func:`gc_paused` may pause the collector in this process. A long-lived server
    turns it off: there, pauses of concurrent requests would overlap and keep the collector off
    for minutes, letting reference cycles pile up for every thread."""
    with _pause.lock:
        _pause.allowed = allowed


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a burst of allocations.

    Matching and ingest allocate hundreds of thousands of small objects (tuples, parsed JSON,
    models) that reference counting frees on its own; each allocation burst would otherwise
    make the collector walk the whole, growing heap again (it cost matching half its time
    and ingest a quarter). Callers that run long keep memory bounded with
    :func:`collect_young` between batches.

    The collector is process-wide, so pauses are counted under a lock: the first one to open
    turns it off (if it was on), the last one to close turns it back on, also on errors, whatever
    the order in which threads finish. Where :func:`allow_gc_pause` turned pausing off (the
    API server), this does nothing.
    """
    with _pause.lock:
        pausing = _pause.allowed
        if pausing:
            if _pause.open == 0:
                _pause.restore = gc.isenabled()
                gc.disable()
            _pause.open += 1
    try:
        yield
    finally:
        if pausing:
            with _pause.lock:
                _pause.open -= 1
                if _pause.open == 0 and _pause.restore:
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
