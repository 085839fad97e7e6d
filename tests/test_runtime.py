"""The garbage-collector pause is safe with threads: counted, restored by the last one out."""

from __future__ import annotations

import gc
import threading

import pytest

from zonewarden import runtime


@pytest.fixture(autouse=True)
def _collector_on():  # type: ignore[no-untyped-def]
    gc.enable()
    runtime.allow_gc_pause(True)
    yield
    gc.enable()
    runtime.allow_gc_pause(True)


def test_the_last_pause_to_close_turns_the_collector_back_on() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with runtime.gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with runtime.gc_paused():
            second_in.set()
            first_out.wait(5)
            seen["after the first closed"] = gc.isenabled()
        seen["after both closed"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    # The first thread's pause ended while the second's was open: the collector stays off for the
    # second (it was restored per call before, which let one thread turn it on under another).
    assert seen == {"after the first closed": False, "after both closed": True}


def test_a_pause_restores_a_collector_that_was_off() -> None:
    gc.disable()
    with runtime.gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_pause_that_raises_still_restores_the_collector() -> None:
    with pytest.raises(RuntimeError), runtime.gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_the_api_server_never_pauses_the_collector(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from zonewarden.api.app import create_app

    url = f"sqlite:///{tmp_path / 'z.db'}"
    from zonewarden.store.db import open_store

    open_store(url).close()
    create_app(url)
    with runtime.gc_paused():
        assert gc.isenabled()
