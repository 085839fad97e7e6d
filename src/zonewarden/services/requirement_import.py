"""Bulk requirement statuses (from a CSV file): all set in one transaction or none.

The same write path as one ``requirement set`` (services/mutation.py: authorize
``requirement.set``, lock the site at the revision edited, validate the whole site, one audit
event), with the statuses before and after of every pair the file sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zonewarden.clock import site_today
from zonewarden.domain.requirements import RequirementStatus
from zonewarden.errors import InputError
from zonewarden.services import mutation
from zonewarden.services.principal import Principal
from zonewarden.store.db import Store


@dataclass(frozen=True)
class ImportOutcome:
    site_id: str
    added: int
    replaced: int
    unchanged: int
    audit_seq: int


def set_requirement_statuses(
    store: Store, site_id: str, statuses: Sequence[RequirementStatus], *, principal: Principal, source: str,
    reason: str | None = None, expected_revision: str | None = None,
) -> ImportOutcome:
    """Add or replace every status of ``statuses`` (without ``assessed``: assessed today, the
    site's today); nothing is written when any of them would make the site invalid."""
    if not statuses:
        raise InputError(f"{source} holds no statuses; nothing was written")
    given = [s.model_dump(mode="json", exclude_defaults=True) for s in statuses]
    counts = {"added": 0, "replaced": 0, "unchanged": 0}

    def mutate(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
        today = site_today((data.get("site") or {}).get("timezone")).isoformat()
        rows: list[dict[str, Any]] = list(data.get("requirements") or [])
        where = {(r.get("target"), r.get("requirement")): i for i, r in enumerate(rows)}
        before, after = [], []
        for new in given:
            new = new if "assessed" in new else {**new, "assessed": today}
            i = where.get((new["target"], new["requirement"]))
            if i is None:
                where[(new["target"], new["requirement"])] = len(rows)
                rows.append(new)
                counts["added"] += 1
            elif rows[i] == new:
                counts["unchanged"] += 1
                continue
            else:
                before.append(rows[i])
                rows[i] = new
                counts["replaced"] += 1
            after.append(new)
        data["requirements"] = rows
        return source, {"statuses": before}, {"statuses": after}

    outcome = mutation.apply(store, site_id, "requirement.import", "requirement-status", mutate, principal=principal,
                             operation="requirement.set", reason=reason, expected_revision=expected_revision)
    return ImportOutcome(site_id, counts["added"], counts["replaced"], counts["unchanged"], outcome.audit_seq)


__all__ = ["ImportOutcome", "set_requirement_statuses"]
