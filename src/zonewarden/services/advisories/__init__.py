"""Advisory use cases: ingest CSAF documents, keep revisions, match them against every site,
prioritise findings with SSVC, record triage decisions, import the KEV catalog.

Write rules (DESIGN.md): every write is one transaction with an audit event. Ingest runs one
transaction *per document* so a bad file never stops a batch and nothing is half-stored: the
advisory row, its findings on every site and the audit event land together or not at all.

Revisions: one row per distinct document (by SHA-256 of its bytes) per tracking id; the row
with the highest ``/document/tracking/version`` is *current* and is the one matched. A newer
version supersedes (outcome ``revision``), an older one is kept as history only (``older``),
the same bytes again change nothing (``unchanged``). The same version with different bytes is
refused as a conflicting revision (``rejected``; issue 18.4): the stored one stays current and an
``advisory.conflict`` audit event records both digests.

Findings follow the inventory lazily: each site's content hash is recorded when its findings
are computed, and every entry point here first rematches sites whose stored content changed
since (a re-import through any interface). :func:`rematch_site` does it explicitly.

The use cases live in one module per job (issue 14 split, a pure move): :mod:`.model` (result
records, version order, triage workflow), :mod:`.match_state` (per-site matchers, writing
findings, rematching stale sites), :mod:`.ingest` (documents, revisions, files, demotion),
:mod:`.reads` (advisory and finding reads), :mod:`.triage` (decisions, overrides), :mod:`.kev`
(catalog import, reprioritising) and :mod:`.evidence` (summary, evidence data). This package
re-exports their names so ``from zonewarden.services import advisories`` keeps working; patch a
function in the module that defines it, not here.
"""

from zonewarden.services.advisories.evidence import (  # noqa: F401  (the facade: private names for old callers)
    evidence_data,
    summary,
)
from zonewarden.services.advisories.ingest import (  # noqa: F401  (the facade: private names for old callers)
    _BY_DIGEST,
    _CURRENT_OF,
    _INSERT_ADVISORIES,
    _PROVIDER_FILES,
    _SKIP_SUFFIXES,
    _SUPERSEDE,
    CHUNK,
    _Batch,
    _deviation_json,
    _doc_status,
    _Prepared,
    _rejected,
    _release_date,
    _Twin,
    demote_unverified,
    ingest_bytes,
    iter_paths,
    read_items,
)
from zonewarden.services.advisories.kev import (  # noqa: F401  (the facade: private names for old callers)
    KevImportReport,
    _reprioritise,
    import_kev,
    kev_count,
)
from zonewarden.services.advisories.match_state import (  # noqa: F401  (the facade: private names for old callers)
    _DOCUMENT_OF,
    _FINDINGS_OF,
    _apply_findings,
    _Counts,
    _current_flats,
    _flat_of,
    _kev_set,
    _match_json,
    _reflatten,
    _rematch,
    _set_match_state,
    _shared_decision,
    _site_matchers,
    _SiteMatcher,
    _ssvc_for,
    _stale_sites,
    carry_match_state,
    ensure_current,
    rematch_site,
)
from zonewarden.services.advisories.model import (  # noqa: F401  (the facade: private names for old callers)
    _OPEN_TRIAGE,
    _SEMVER,
    SYSTEM_ACTOR,
    TRANSITIONS,
    TRIAGE_STATUSES,
    AdvisoryRow,
    FindingRow,
    IngestReport,
    IngestResult,
    Outcome,
    TriageDecision,
    _clean,
    _clip,
    version_key,
)
from zonewarden.services.advisories.reads import (  # noqa: F401  (the facade: private names for old callers)
    _ADV_COLS,
    _STATUS_ORDER,
    _advisory_row,
    _decisions,
    _finding_query,
    _finding_row,
    _finding_site,
    _utc,
    advisory_document,
    advisory_history,
    get_finding,
    list_advisories,
    list_findings,
)
from zonewarden.services.advisories.triage import (  # noqa: F401  (the facade: private names for old callers)
    TRIAGE_OPERATION,
    _recompute,
    decide,
    decision_record,
    override,
)

__all__ = [
    "CHUNK",
    "SYSTEM_ACTOR",
    "TRANSITIONS",
    "TRIAGE_OPERATION",
    "TRIAGE_STATUSES",
    "AdvisoryRow",
    "FindingRow",
    "IngestReport",
    "IngestResult",
    "KevImportReport",
    "Outcome",
    "TriageDecision",
    "advisory_document",
    "advisory_history",
    "carry_match_state",
    "decide",
    "decision_record",
    "demote_unverified",
    "ensure_current",
    "evidence_data",
    "get_finding",
    "import_kev",
    "ingest_bytes",
    "iter_paths",
    "kev_count",
    "list_advisories",
    "list_findings",
    "override",
    "read_items",
    "rematch_site",
    "summary",
    "version_key",
]
