"""The registry of mandatory tests (:data:`MANDATORY_TESTS`) and the runner.

Part of :mod:`zonewarden.io.csaf.mandatory`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zonewarden.io.csaf.mandatory.context import Context, Dev, build_context
from zonewarden.io.csaf.model import Deviation

# ---- registry -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MandatoryTest:
    test_id: str
    title: str
    run: Callable[[Context], Dev]


MANDATORY_TESTS: dict[str, MandatoryTest] = {}


def mandatory(test_id: str, title: str) -> Callable[[Callable[[Context], Dev]], Callable[[Context], Dev]]:
    def register(func: Callable[[Context], Dev]) -> Callable[[Context], Dev]:
        MANDATORY_TESTS[test_id] = MandatoryTest(test_id, title, func)
        return func

    return register


def run_mandatory_tests(doc: dict[str, Any], *, schema_valid: bool = True) -> list[Deviation]:
    """Run every registered mandatory test on ``doc``.

    On a schema-invalid document a test may meet shapes it cannot interpret; it then reports
    that it could not run instead of crashing. On a schema-valid document a crash is a bug in
    this module and propagates.
    """
    ctx = build_context(doc)
    ctx.schema_valid = schema_valid
    out: list[Deviation] = []
    for test in MANDATORY_TESTS.values():
        try:
            out.extend(test.run(ctx))
        except (TypeError, AttributeError, KeyError, ValueError, IndexError) as exc:
            if schema_valid:
                raise
            out.append(Deviation(test.test_id, "", f"test could not run on this malformed "
                                 f"document ({type(exc).__name__}: {exc})"))
    return out




def implemented_test_ids() -> list[str]:
    """Clause ids of the registered tests, in clause order."""
    return sorted(MANDATORY_TESTS, key=lambda t: tuple(int(p) for p in t.split(".")))
