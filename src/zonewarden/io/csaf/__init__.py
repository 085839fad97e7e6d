"""CSAF 2.0 reading and validation: bytes -> JSON -> schema -> mandatory tests (section 6.1).

Pure: no database, no network, no clock. Call :func:`read_csaf`; see docs/csaf-validation.md.
"""

from zonewarden.io.csaf.mandatory import MANDATORY_TESTS, implemented_test_ids
from zonewarden.io.csaf.model import CsafReadResult, Deviation, Limits
from zonewarden.io.csaf.reader import DEFAULT_LIMITS, read_csaf
from zonewarden.io.csaf.schema import find_schema_files, schema_deviations

__all__ = [
    "DEFAULT_LIMITS",
    "MANDATORY_TESTS",
    "CsafReadResult",
    "Deviation",
    "Limits",
    "find_schema_files",
    "implemented_test_ids",
    "read_csaf",
    "schema_deviations",
]
