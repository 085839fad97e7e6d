"""CSAF 2.0 mandatory tests (specification section 6.1), one small function per test.

Each test reads a :class:`Context` that is built in a single pass over the document (product
and group definitions and references, branches, full product names), so the whole table costs
about one walk of the document. Tests are registered in :data:`MANDATORY_TESTS` with their
clause id; a test yields :class:`Deviation` objects and never raises on a badly typed document
(accessors below return empty values for wrong types).

One module per test group (registered on import, in clause order, by importing them here):
:mod:`.products`, :mod:`.scores`, :mod:`.names`, :mod:`.revisions`, :mod:`.uniqueness`,
:mod:`.profiles`, :mod:`.references`; the context in :mod:`.context`, the registry and runner
in :mod:`.registry`.
"""

# The groups register their tests on import: this order is the order they run in.
# isort: off
from zonewarden.io.csaf.mandatory import products  # noqa: F401
from zonewarden.io.csaf.mandatory import scores  # noqa: F401
from zonewarden.io.csaf.mandatory import names  # noqa: F401
from zonewarden.io.csaf.mandatory import revisions  # noqa: F401
from zonewarden.io.csaf.mandatory import uniqueness  # noqa: F401
from zonewarden.io.csaf.mandatory import profiles  # noqa: F401
from zonewarden.io.csaf.mandatory import references  # noqa: F401
# isort: on
from zonewarden.io.csaf.mandatory.context import Context, build_context
from zonewarden.io.csaf.mandatory.registry import (
    MANDATORY_TESTS,
    MandatoryTest,
    implemented_test_ids,
    run_mandatory_tests,
)

__all__ = [
    "MANDATORY_TESTS",
    "Context",
    "MandatoryTest",
    "build_context",
    "implemented_test_ids",
    "run_mandatory_tests",
]
