"""What sections build from: the (audience-redacted) document, the as-of date and the engine
results, each computed once on first use and timed.

Engines are pure and can refuse a document (a risk score outside the method's scales, a
missing catalog); such a refusal is kept as a reason string so the section that needed the
result can say what could not be decided instead of dropping content silently.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from zonewarden.domain.site import SiteDocument
from zonewarden.evidence.redaction import Audience

T = TypeVar("T")


class BuildContext:
    """Inputs of one package build. ``doc`` is already redacted for the audience."""

    def __init__(self, doc: SiteDocument, audience: Audience, as_of: dt.date) -> None:
        self.doc = doc
        self.audience = audience
        self.as_of = as_of
        self.timings: dict[str, float] = {}
        """Seconds spent per engine (first use only), for the benchmark."""
        self.problems: dict[str, str] = {}
        """Engine name -> why it produced no result."""

    def _timed(self, name: str, fn: Callable[[], T]) -> T | None:
        start = time.perf_counter()
        try:
            return fn()
        except (ValueError, KeyError, LookupError, ArithmeticError) as exc:
            self.problems[name] = f"{type(exc).__name__}: {exc}"
            return None
        except Exception as exc:  # noqa: BLE001 - an engine failure must not kill the package
            from zonewarden.errors import ZonewardenError

            if not isinstance(exc, ZonewardenError):
                raise
            self.problems[name] = str(exc)
            return None
        finally:
            self.timings[name] = time.perf_counter() - start

    @property
    def auditor(self) -> bool:
        return self.audience is Audience.AUDITOR

    # -- indexes ---------------------------------------------------------------------------
    @cached_property
    def zones(self) -> dict[str, Any]:
        return {z.id: z for z in self.doc.zones}

    @cached_property
    def people(self) -> dict[str, Any]:
        return {p.id: p for p in self.doc.people}

    def person(self, ident: str | None) -> str | None:
        """A person as shown in a package: name (id); the id when unknown."""
        if ident is None:
            return None
        p = self.people.get(ident)
        return f"{p.name} ({ident})" if p is not None else ident

    # -- catalogs --------------------------------------------------------------------------
    @cached_property
    def catalog(self) -> Any:
        from zonewarden.catalog import load_62443_3_3

        return self._timed("catalog", load_62443_3_3)

    @cached_property
    def annex(self) -> Any:
        from zonewarden.catalog import load_iso27001

        return self._timed("catalog-annex-a", load_iso27001)

    @cached_property
    def mapping(self) -> Any:
        from zonewarden.catalog import load_mapping

        return self._timed("catalog-mapping", load_mapping)

    # -- engines ---------------------------------------------------------------------------
    @cached_property
    def check(self) -> Any:
        from zonewarden.engines.segmentation import run_check

        return self._timed("check", lambda: run_check(self.doc, today=self.as_of))

    @cached_property
    def gap(self) -> Any:
        from zonewarden.engines.gap import analyse

        catalog = self.catalog
        if catalog is None:
            self.problems["gap"] = "the IEC 62443-3-3 catalog could not be loaded"
            return None
        return self._timed("gap", lambda: analyse(self.doc, catalog, self.as_of))

    @cached_property
    def register(self) -> Any:
        from zonewarden.engines.risk import register

        return self._timed("risk-register", lambda: register(self.doc, self.as_of))

    @cached_property
    def proposals(self) -> Any:
        from zonewarden.engines.risk import propose_slt

        return self._timed("slt-proposal", lambda: propose_slt(self.doc))

    @cached_property
    def due(self) -> Any:
        from zonewarden.engines.cadence import due_items

        return self._timed("cadence", lambda: due_items(self.doc, self.as_of))

    @cached_property
    def annex_coverage(self) -> Any:
        from zonewarden.engines.gap import annex_a_coverage

        if self.annex is None or self.mapping is None:
            self.problems["annex-a"] = "the ISO/IEC 27001 catalog or its mapping could not be loaded"
            return None
        return self._timed(
            "annex-a", lambda: annex_a_coverage(self.doc, self.annex, self.mapping, self.as_of)
        )

    @cached_property
    def diagram(self) -> str | None:
        from zonewarden.evidence.diagram import render_diagram

        report = self.check
        return self._timed("diagram", lambda: render_diagram(self.doc, report))

    @cached_property
    def diagram_overview(self) -> str | None:
        """The simplified diagram of a large site (zones grouped by Purdue level and kind)."""
        from zonewarden.evidence.diagram import render_overview

        report = self.check
        return self._timed("diagram-overview", lambda: render_overview(self.doc, report))

    def why_missing(self, *names: str) -> str:
        reasons = [f"{n}: {self.problems[n]}" for n in names if n in self.problems]
        return "; ".join(reasons) or "not available"


__all__ = ["BuildContext"]
