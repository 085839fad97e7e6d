"""Timing helpers shared by the benchmarks (not collected by pytest)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping


def best_interleaved(
    repeat: int, funcs: Mapping[str, Callable[[], object]], clock: Callable[[], float] = time.process_time
) -> dict[str, float]:
    """Best time of each function over ``repeat`` rounds, the functions taking turns in each
    round so that a busy moment on a shared machine hits all of them alike. ``clock`` is CPU
    time of this process by default; a benchmark that waits on another process passes
    ``time.perf_counter``."""
    best = {name: float("inf") for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = clock()
            func()
            best[name] = min(best[name], clock() - start)
    return best
