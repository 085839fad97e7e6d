"""Standards catalogs shipped as package data, loaded into frozen models.

Four files under ``zonewarden/catalog/data`` (see docs/catalog.md):

* ``iec62443-3-3.yaml``: the 51 SRs and 49 REs with FR, lowest SL and short name
* ``iec62443-4-2.yaml``: component requirements (CR/SAR/EDR/HDR/NDR) with an honesty flag
* ``iso27001-2022-annex-a.yaml``: the 93 Annex A controls
* ``mapping-62443-3-3-to-iso27001.yaml``: SR/RE → Annex A pairs with a relation kind

Loading is pure (package data only, no network, no clock) and cached per process. Every file is
validated on load; a broken file raises :class:`CatalogDataError` listing every problem with
the file, line and entry, because a wrong catalog silently skews every gap analysis built on it.

User-typed ids go through :func:`normalise_requirement_id` (or ``Catalog.resolve``), which
accepts the spellings people actually use (``SR1.1``, ``sr 1.1 re1``, ``SR 1.1(1)``) and
suggests the closest valid id when there is none.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import StrEnum
from importlib import resources
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from zonewarden.domain.levels import FR
from zonewarden.errors import InputError, InstallationError, Problem

FILE_62443_3_3 = "iec62443-3-3.yaml"
FILE_62443_4_2 = "iec62443-4-2.yaml"
FILE_ISO27001 = "iso27001-2022-annex-a.yaml"
FILE_MAPPING = "mapping-62443-3-3-to-iso27001.yaml"


# --- errors ----------------------------------------------------------------------------------


class CatalogDataError(InstallationError):
    """A packaged catalog file is broken. Lists every problem found, each with file and line.

    Not an ``InputError``: the user did nothing wrong; the installation (or an edit of the data
    files) is broken and has to be fixed before any result can be trusted.
    """

    def __init__(self, message: str, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        return head + "".join(f"\n  {p}" for p in self.problems)


class UnknownRequirementError(InputError, LookupError):
    """A user-typed id that names no entry of the catalog. Carries the closest valid id.

    Also a ``LookupError`` so callers that only ask "is this id known?" can catch the builtin.
    """

    def __init__(self, text: str, standard: str, suggestion: str | None, hint: str = "") -> None:
        self.text = text
        self.standard = standard
        self.suggestion = suggestion
        message = f"{text!r} is not a requirement of {standard}"
        if hint:
            message += f"; {hint}"
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        super().__init__(message)


# --- ids: parsing, canonical spelling, standard order -----------------------------------------

_PREFIXES = ("SR", "CR", "SAR", "EDR", "HDR", "NDR")
# Order of the id families inside one number in IEC 62443-4-2 (CR 2.3 < SAR 2.4 < EDR 2.4 ...).
_PREFIX_RANK = {p: i for i, p in enumerate(("SR", "CR", "SAR", "EDR", "HDR", "NDR"))}

_ID_RE = re.compile(
    r"""^\s*
        (?P<prefix>[A-Za-z]{2,3})?[\s_\-]*                 # SR, cr, NDR (optional for 3-3)
        (?P<fr>\d+)\s*\.\s*(?P<n>\d+)                      # 1.1
        \s*(?:
            RE\s*[\-_]?\s*\(?\s*(?P<re>\d+)\s*\)?          # RE 1, RE1, RE(1), RE-1
          | \(\s*(?P<re2>\d+)\s*\)                         # (1): the standards' own short form
        )?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _parse(text: str) -> tuple[str | None, int, int, int] | None:
    """(prefix or None, fr, number, re or 0) of any accepted spelling, or None."""
    m = _ID_RE.match(text)
    if m is None:
        return None
    prefix = m["prefix"].upper() if m["prefix"] else None
    if prefix is not None and prefix not in _PREFIXES:
        return None
    re_ = m["re"] or m["re2"]
    return prefix, int(m["fr"]), int(m["n"]), int(re_) if re_ else 0


def _spell(prefix: str, fr: int, n: int, re_: int) -> str:
    return f"{prefix} {fr}.{n}" + (f" RE {re_}" if re_ else "")


def requirement_sort_key(ident: str) -> tuple[int, int, int, int]:
    """Standard order of 62443 ids: SR 1.1 < SR 1.1 RE 1 < SR 1.2 < ... < SR 1.9 < SR 1.10.

    For 4-2, families sort inside one number as CR < SAR < EDR < HDR < NDR. Unparseable ids
    sort last (they never survive validation, but sorting must not crash on them).
    """
    parsed = _parse(ident)
    if parsed is None:
        return (99, 99, 99, 99)
    prefix, fr, n, re_ = parsed
    return (fr, n, _PREFIX_RANK.get(prefix or "SR", 0), re_)


def _annex_sort_key(ident: str) -> tuple[int, int]:
    m = re.fullmatch(r"A\.(\d+)\.(\d+)", ident)
    return (int(m[1]), int(m[2])) if m else (99, 99)


# --- models ----------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


_SHORT = Field(min_length=1, max_length=200)
_DESCRIPTION = Field(min_length=20, max_length=400)


class Requirement(_Frozen):
    """One IEC 62443-3-3 system requirement (SR) or requirement enhancement (RE)."""

    id: str = Field(pattern=r"^SR [1-7]\.\d{1,2}( RE \d{1,2})?$")
    """Canonical id, ``SR 1.1`` or ``SR 1.1 RE 1``."""
    fr: FR
    min_sl: int = Field(ge=1, le=4)
    """Lowest SL at which the item is required; it is required at every higher level too."""
    name: str = _SHORT
    description: str = _DESCRIPTION
    """zonewarden's own plain-language summary, not the standard's text."""
    is_enhancement: bool
    parent_sr: str | None
    """For an RE the id of its SR; ``None`` for an SR."""

    def required_at(self, level: int) -> bool:
        return level >= self.min_sl


class ComponentType(StrEnum):
    """The four component types of IEC 62443-4-2."""

    SAR = "SAR"
    EDR = "EDR"
    HDR = "HDR"
    NDR = "NDR"

    @property
    def label(self) -> str:
        return _COMPONENT_TITLES[self]


_COMPONENT_TITLES = {
    ComponentType.SAR: "Software application",
    ComponentType.EDR: "Embedded device",
    ComponentType.HDR: "Host device",
    ComponentType.NDR: "Network device",
}


class ComponentRequirement(_Frozen):
    """One IEC 62443-4-2 component requirement or enhancement."""

    id: str = Field(pattern=r"^(CR|SAR|EDR|HDR|NDR) [1-7]\.\d{1,2}( RE \d{1,2})?$")
    fr: FR
    min_sl: int | None = Field(ge=1, le=4)
    """Lowest SL-C at which it is required; ``None`` when 4-2 asks nothing of components."""
    name: str = _SHORT
    component_types: tuple[ComponentType, ...]
    """The component types the id applies to (``CR`` ids: all four)."""
    is_enhancement: bool
    parent: str | None
    """For an RE the id of the requirement it enhances."""
    system_requirement: str | None
    """The IEC 62443-3-3 SR this one derives from, where there is one."""
    certain: bool
    """False when the entry (usually its ``min_sl``) is not verified against the standard."""
    note: str | None = None

    def applies_to(self, component_type: ComponentType | str) -> bool:
        return ComponentType(component_type) in self.component_types


class Theme(StrEnum):
    """The four themes of ISO/IEC 27001:2022 Annex A (clauses 5-8)."""

    ORGANIZATIONAL = "Organizational"
    PEOPLE = "People"
    PHYSICAL = "Physical"
    TECHNOLOGICAL = "Technological"


_THEME_OF_CLAUSE = {
    5: Theme.ORGANIZATIONAL,
    6: Theme.PEOPLE,
    7: Theme.PHYSICAL,
    8: Theme.TECHNOLOGICAL,
}


class AnnexAControl(_Frozen):
    """One ISO/IEC 27001:2022 Annex A control."""

    id: str = Field(pattern=r"^A\.[5-8]\.\d{1,2}$")
    theme: Theme
    title: str = _SHORT
    description: str = _DESCRIPTION


class Relation(StrEnum):
    """How a 62443 requirement relates to an Annex A control, read from the requirement's side."""

    EQUAL = "equal"  # same outcome asked; evidence for one serves the other
    SUBSET = "subset"  # the requirement covers part of the control
    SUPERSET = "superset"  # the requirement asks more than the control
    INTERSECTS = "intersects"  # same topic, they overlap, neither contains the other


class MappingLink(_Frozen):
    """One SR/RE → Annex A pair."""

    requirement: str
    control: str
    relation: Relation
    rationale: str = Field(min_length=10, max_length=300)


# --- catalogs --------------------------------------------------------------------------------

T = TypeVar("T", bound=BaseModel)


class _Catalog(BaseModel, Generic[T]):
    """Common behaviour: immutable, iterable in standard order, lookup by any spelling."""

    model_config = ConfigDict(frozen=True)
    standard: str
    _by_id: dict[str, T] = PrivateAttr(default_factory=dict)

    def _items(self) -> tuple[T, ...]:  # pragma: no cover - overridden
        raise NotImplementedError

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {item.id: item for item in self._items()}  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, ident: object) -> bool:
        if not isinstance(ident, str):
            return False
        try:
            self.resolve(ident)
        except UnknownRequirementError:
            return False
        return True

    def ids(self) -> tuple[str, ...]:
        """Every id, in standard order."""
        return tuple(self._by_id)

    def get(self, ident: str) -> T:
        """The entry for ``ident`` in any accepted spelling; :class:`UnknownRequirementError` if none."""
        item = self._by_id.get(ident)  # canonical ids (the common case in engines) skip parsing
        return item if item is not None else self._by_id[self.resolve(ident)]

    def resolve(self, ident: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


class Catalog(_Catalog[Requirement]):
    """IEC 62443-3-3: SRs and REs in standard order."""

    requirements: tuple[Requirement, ...]
    _required: dict[tuple[FR | None, int], tuple[Requirement, ...]] = PrivateAttr(
        default_factory=dict
    )

    def _items(self) -> tuple[Requirement, ...]:
        return self.requirements

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        # 8 x 5 small tuples, computed once: engines ask this per zone and FR in tight loops.
        self._required = {
            (fr, level): tuple(
                r for r in self.requirements if r.min_sl <= level and (fr is None or r.fr is fr)
            )
            for fr in (None, *FR)
            for level in range(5)
        }

    def resolve(self, ident: str) -> str:
        """Canonical id for a user-typed one (``"sr1.1 re1"`` → ``"SR 1.1 RE 1"``)."""
        return _resolve(ident, self._by_id, self.standard, default_prefix="SR", accepted=("SR",))

    def system_requirements(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.is_enhancement)

    def enhancements(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.is_enhancement)

    def enhancements_of(self, sr: str) -> tuple[Requirement, ...]:
        parent = self.get(sr)
        return tuple(r for r in self.requirements if r.parent_sr == parent.id)

    def required_at(self, fr: FR | str | None, level: int) -> tuple[Requirement, ...]:
        """Everything required on ``fr`` (every FR when ``None``) for security level ``level``."""
        _check_level(level)
        return self._required[(FR(fr) if fr is not None else None, level)]

    def required_for(self, levels: Mapping[FR, int] | Any) -> tuple[Requirement, ...]:
        """Everything an SL vector asks for: per FR, the items required at that FR's level.

        Takes an ``SLTarget``/``SLAchieved``/``SLCapability`` or a plain ``{FR: level}`` mapping.
        """
        get = levels.__getitem__
        out = []
        for r in self.requirements:
            level = int(get(r.fr))
            _check_level(level)
            if r.min_sl <= level:
                out.append(r)
        return tuple(out)


class ComponentCatalog(_Catalog[ComponentRequirement]):
    """IEC 62443-4-2 component requirements in standard order."""

    requirements: tuple[ComponentRequirement, ...]

    def _items(self) -> tuple[ComponentRequirement, ...]:
        return self.requirements

    def resolve(self, ident: str) -> str:
        return _resolve(
            ident, self._by_id, self.standard, default_prefix="CR", accepted=_PREFIXES[1:]
        )

    def for_component(
        self, component_type: ComponentType | str
    ) -> tuple[ComponentRequirement, ...]:
        """Every entry that applies to ``component_type``."""
        ctype = ComponentType(component_type)
        return tuple(r for r in self.requirements if ctype in r.component_types)

    def required_at(
        self, component_type: ComponentType | str, fr: FR | str | None, level: int
    ) -> tuple[ComponentRequirement, ...]:
        """What a component of this type must support on ``fr`` to reach SL-C ``level``.

        Entries with ``min_sl: null`` (no component-level requirement) are never included;
        check ``certain`` on the result before trusting a derived SL-C.
        """
        _check_level(level)
        want = FR(fr) if fr is not None else None
        return tuple(
            r
            for r in self.for_component(component_type)
            if r.min_sl is not None and r.min_sl <= level and (want is None or r.fr is want)
        )


class AnnexA(_Catalog[AnnexAControl]):
    """ISO/IEC 27001:2022 Annex A controls in clause order."""

    controls: tuple[AnnexAControl, ...]

    def _items(self) -> tuple[AnnexAControl, ...]:
        return self.controls

    def resolve(self, ident: str) -> str:
        text = ident.strip().upper().replace(" ", "")
        m = re.fullmatch(r"(?:A\.?)?([5-8])\.(\d{1,2})", text)
        if m is not None:
            canonical = f"A.{int(m[1])}.{int(m[2])}"
            if canonical in self._by_id:
                return canonical
        raise UnknownRequirementError(
            ident,
            self.standard,
            _closest(text, tuple(self._by_id), cutoff=0.5),
            "write it like 'A.5.1'",
        )

    def by_theme(self, theme: Theme | str) -> tuple[AnnexAControl, ...]:
        want = Theme(theme)
        return tuple(c for c in self.controls if c.theme is want)


class CatalogMapping(BaseModel):
    """SR/RE → Annex A links; iterates as flat :class:`MappingLink` pairs."""

    model_config = ConfigDict(frozen=True)
    standard_from: str
    standard_to: str
    links: tuple[MappingLink, ...]
    _by_req: dict[str, tuple[MappingLink, ...]] = PrivateAttr(default_factory=dict)
    _by_control: dict[str, tuple[MappingLink, ...]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        by_req: dict[str, list[MappingLink]] = {}
        by_control: dict[str, list[MappingLink]] = {}
        for link in self.links:
            by_req.setdefault(link.requirement, []).append(link)
            by_control.setdefault(link.control, []).append(link)
        self._by_req = {k: tuple(v) for k, v in by_req.items()}
        self._by_control = {
            k: tuple(sorted(v, key=lambda x: requirement_sort_key(x.requirement)))
            for k, v in by_control.items()
        }

    def __iter__(self) -> Iterator[MappingLink]:  # type: ignore[override]
        return iter(self.links)

    def __len__(self) -> int:
        return len(self.links)

    def controls_for(self, requirement: str, *, inherit: bool = False) -> tuple[MappingLink, ...]:
        """Links of one SR/RE (canonical id), in the file's reviewed order.

        An RE is listed only where it adds something to its SR. With ``inherit=True`` an RE
        without links of its own gets its SR's links (still naming the SR as ``requirement``,
        so a report can say where the link came from).
        """
        links = self._by_req.get(requirement, ())
        if not links and inherit and " RE " in requirement:
            links = self._by_req.get(requirement.split(" RE ")[0], ())
        return links

    def requirements_for(self, control: str) -> tuple[MappingLink, ...]:
        """Links into one Annex A control, in standard requirement order."""
        return self._by_control.get(control, ())

    def mapped_requirements(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_req, key=requirement_sort_key))


def _check_level(level: int) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 4:
        raise ValueError(f"a security level is a whole number 0-4, got {level!r}")


def _closest(text: str, candidates: tuple[str, ...], cutoff: float = 0.0) -> str | None:
    """The most similar candidate; on a tie the first in standard order (difflib picks the last,
    which suggests 'SR 1.1 RE 3' for 'SR 1.1 RE')."""
    best: tuple[float, str] | None = None
    for cand in candidates:
        ratio = difflib.SequenceMatcher(None, text, cand).ratio()
        if ratio >= cutoff and (best is None or ratio > best[0]):
            best = (ratio, cand)
    return best[1] if best else None


def _resolve(
    ident: str,
    by_id: Mapping[str, Any],
    standard: str,
    default_prefix: str,
    accepted: tuple[str, ...],
) -> str:
    if not isinstance(ident, str):
        raise UnknownRequirementError(repr(ident), standard, None, "an id is text like 'SR 1.1'")
    # A comma for the dot is the one typo common enough to repair silently ("SR 1,1").
    parsed = _parse(ident) or _parse(ident.replace(",", "."))
    if parsed is None:
        upper = " ".join(ident.upper().split())
        raise UnknownRequirementError(
            ident,
            standard,
            _closest(upper, tuple(by_id), cutoff=0.6),
            f"write it like '{default_prefix} 1.1' or '{default_prefix} 1.1 RE 1'",
        )
    prefix, fr, n, re_ = parsed
    if not 1 <= fr <= 7:
        raise UnknownRequirementError(
            ident, standard, None, f"IEC 62443 has seven FRs, so the first number is 1-7, not {fr}"
        )
    hint = ""
    if prefix is None or prefix in accepted:
        canonical = _spell(prefix or default_prefix, fr, n, re_)
        if canonical in by_id:
            return canonical
    else:
        hint = f"{prefix} ids belong to another standard"
    # Same numbers under another family (a 3-3 id typed in a 4-2 context, or CR 2.4 for EDR 2.4).
    same_numbers = [i for i in by_id if (p := _parse(i)) is not None and p[1:] == (fr, n, re_)]
    if same_numbers:
        return _raise_unknown(ident, standard, same_numbers[0], hint)
    # Nearest by position in the standard: same SR/CR first, then same FR, then anything.
    key = (fr, n, re_)
    ranked = sorted(
        by_id,
        key=lambda i: _distance(key, _parse(i)),
    )
    return _raise_unknown(ident, standard, ranked[0] if ranked else None, hint)


def _distance(key: tuple[int, int, int], other: tuple[str | None, int, int, int] | None) -> tuple:
    if other is None:
        return (9, 0, 0, 0)
    fr, n, re_ = key
    _, ofr, on, ore = other
    return (0 if ofr == fr else 1, abs(on - n), abs(ore - re_), _PREFIX_RANK.get(other[0] or "", 0))


def _raise_unknown(ident: str, standard: str, suggestion: str | None, hint: str) -> str:
    raise UnknownRequirementError(ident, standard, suggestion, hint)


# --- loading and validation ------------------------------------------------------------------


def _read_text(name: str) -> str:
    return resources.files("zonewarden.catalog").joinpath("data", name).read_text(encoding="utf-8")


def _locate(text: str, path: tuple[str | int, ...]) -> tuple[int | None, int | None]:
    """1-based line and column of ``path`` in the YAML ``text``, as deep as it resolves.

    Only called when something is wrong, so the slower round-trip parser (which keeps
    positions) costs nothing on the normal path.
    """
    try:
        node: Any = YAML(typ="rt").load(text)
    except YAMLError:
        return None, None
    line = col = None
    for part in path:
        try:
            if isinstance(part, int):
                pos = node.lc.item(part)
            else:
                pos = node.lc.key(part)
            line, col = pos[0] + 1, pos[1] + 1
            node = node[part]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return line, col


class _Collector:
    """Collects problems for one file, with lines looked up lazily at the end."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.raw: list[tuple[str, tuple[str | int, ...]]] = []

    def add(self, message: str, path: tuple[str | int, ...]) -> None:
        self.raw.append((message, path))

    def raise_if_any(self) -> None:
        if not self.raw:
            return
        problems = []
        for message, path in self.raw:
            line, col = _locate(self.text, path)
            problems.append(Problem(message, path, file=self.name, line=line, column=col))
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise CatalogDataError(
            f"packaged catalog file {self.name} is invalid ({len(problems)} problem(s)); "
            "fix the data file or reinstall zonewarden",
            problems,
        )


def _load_yaml(name: str, text: str, key: str) -> tuple[_Collector, dict[str, Any]]:
    col = _Collector(name, text)
    try:
        doc = YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogDataError(
            f"packaged catalog file {name} is not valid YAML",
            [
                Problem(
                    str(getattr(exc, "problem", None) or exc),
                    file=name,
                    line=mark.line + 1 if mark is not None else None,
                    column=mark.column + 1 if mark is not None else None,
                )
            ],
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list) or not doc[key]:
        col.add(f"the file needs a non-empty list '{key}'", ())
        col.raise_if_any()
    if not isinstance(doc.get("standard", doc.get("standard_from")), str):
        col.add("the file needs a 'standard' (or 'standard_from') naming the edition", ())
        col.raise_if_any()
    return col, doc


def _entry_label(raw: Any, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"entry {index + 1} ({ident})" if ident else f"entry {index + 1}"


def _validate_items(
    col: _Collector,
    key: str,
    raw_items: list[Any],
    model: type[T],
    prepare: Callable[[dict[str, Any]], dict[str, Any]],
    aliases: Mapping[str, str] | None = None,
) -> list[tuple[int, T]]:
    out: list[tuple[int, T]] = []
    for i, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            col.add(f"{_entry_label(raw, i)}: expected a mapping", (key, i))
            continue
        try:
            out.append((i, model.model_validate(prepare(dict(raw)))))
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                if loc and aliases and loc[0] in aliases:
                    loc = (aliases[str(loc[0])], *loc[1:])
                field = loc[0] if loc and isinstance(loc[0], str) and loc[0] in raw else None
                path = (key, i, field) if field else (key, i)
                where = ".".join(str(p) for p in loc) or "entry"
                col.add(f"{_entry_label(raw, i)}: {where}: {err['msg']}", path)
    return out


def _derived_id_fields(prefixes: tuple[str, ...]) -> Callable[[str], tuple[bool, str | None]]:
    def derive(ident: str) -> tuple[bool, str | None]:
        parsed = _parse(ident) if isinstance(ident, str) else None
        if parsed is None or parsed[0] not in prefixes:
            return False, None
        prefix, fr, n, re_ = parsed
        return (True, _spell(str(prefix), fr, n, 0)) if re_ else (False, None)

    return derive


def _check_structure(
    col: _Collector,
    key: str,
    items: list[tuple[int, Any]],
    parent_attr: str,
    raw_items: list[Any],
) -> None:
    """Shared 62443 checks: canonical spelling, unique ids, standard order, FR matches the id,
    an RE follows its parent, RE numbers count up from 1, an RE is never required below its
    parent."""
    valid = {item.id for _, item in items}
    raw_ids = {
        r.get("id") for r in raw_items if isinstance(r, dict) and r.get("id") not in valid
    }  # entries that failed validation: do not report their REs as orphans as well
    seen: dict[str, Any] = {}
    previous: str | None = None
    last_re: dict[str, int] = {}
    for i, item in items:
        label = f"entry {i + 1} ({item.id})"
        parsed = _parse(item.id)
        assert parsed is not None  # the model's pattern guarantees it
        prefix, fr, n, re_ = parsed
        if item.id in seen:
            col.add(f"{label}: duplicate id", (key, i, "id"))
            continue
        if item.fr is not FR(f"FR{fr}"):
            col.add(f"{label}: fr is {item.fr.value} but the id belongs to FR{fr}", (key, i, "fr"))
        if previous is not None and requirement_sort_key(item.id) <= requirement_sort_key(previous):
            col.add(f"{label}: out of standard order (comes after {previous})", (key, i, "id"))
        parent_id = getattr(item, parent_attr)
        if re_:
            parent = seen.get(parent_id)
            if parent is None:
                if parent_id not in raw_ids:  # else the parent is invalid and already reported
                    col.add(
                        f"{label}: its base requirement {parent_id} must come before it",
                        (key, i, "id"),
                    )
            else:
                expected = last_re.get(parent_id, 0) + 1
                if re_ != expected:
                    col.add(
                        f"{label}: expected RE {expected} next under {parent_id}", (key, i, "id")
                    )
                if (
                    item.min_sl is not None
                    and parent.min_sl is not None
                    and item.min_sl < parent.min_sl
                ):
                    col.add(
                        f"{label}: min_sl {item.min_sl} is below its base requirement's {parent.min_sl}",
                        (key, i, "min_sl"),
                    )
            last_re[parent_id] = re_
        seen[item.id] = item
        previous = item.id


def parse_62443_3_3(text: str, source: str = FILE_62443_3_3) -> Catalog:
    """Validate and build the 3-3 catalog from YAML ``text`` (``source`` names it in errors)."""
    col, doc = _load_yaml(source, text, "requirements")
    raw = doc["requirements"]
    derive = _derived_id_fields(("SR",))

    def prepare(entry: dict[str, Any]) -> dict[str, Any]:
        # is_enhancement and parent_sr follow from the id; writing them in the file would only
        # allow the two to disagree.
        entry["is_enhancement"], entry["parent_sr"] = derive(entry.get("id"))  # type: ignore[arg-type]
        return entry

    items = _validate_items(col, "requirements", raw, Requirement, prepare)
    _check_structure(col, "requirements", items, "parent_sr", raw)
    col.raise_if_any()
    standard = str(doc["standard"])
    return Catalog(standard=standard, requirements=tuple(item for _, item in items))


def parse_62443_4_2(
    text: str, source: str = FILE_62443_4_2, known_srs: Iterable[str] = ()
) -> ComponentCatalog:
    """Validate and build the 4-2 catalog; ``known_srs`` checks ``system_requirement`` links."""
    col, doc = _load_yaml(source, text, "requirements")
    raw = doc["requirements"]
    derive = _derived_id_fields(_PREFIXES[1:])
    srs = set(known_srs)

    def prepare(entry: dict[str, Any]) -> dict[str, Any]:
        entry["is_enhancement"], entry["parent"] = derive(entry.get("id"))  # type: ignore[arg-type]
        comps = entry.pop("components", None)
        if comps == "all":
            comps = [c.value for c in ComponentType]
        entry["component_types"] = comps
        entry.setdefault("system_requirement", None)
        return entry

    items = _validate_items(
        col, "requirements", raw, ComponentRequirement, prepare, {"component_types": "components"}
    )
    _check_structure(col, "requirements", items, "parent", raw)
    by_id = {item.id: item for _, item in items}
    for i, item in items:
        label = f"entry {i + 1} ({item.id})"
        prefix = item.id.split()[0]
        expected = tuple(ComponentType) if prefix == "CR" else (ComponentType(prefix),)
        if tuple(sorted(item.component_types)) != tuple(sorted(expected)):
            col.add(
                f"{label}: components must be {'all' if prefix == 'CR' else '[' + prefix + ']'} for a {prefix} id",
                ("requirements", i, "components"),
            )
        if item.is_enhancement and item.system_requirement is not None:
            col.add(
                f"{label}: only a base requirement names its system_requirement",
                ("requirements", i, "system_requirement"),
            )
        if item.system_requirement is not None and srs and item.system_requirement not in srs:
            col.add(
                f"{label}: system_requirement {item.system_requirement!r} is not an IEC 62443-3-3 SR",
                ("requirements", i, "system_requirement"),
            )
        if item.is_enhancement and item.parent in by_id and by_id[item.parent].min_sl is None:
            col.add(
                f"{label}: enhances {item.parent}, which has no component-level requirement",
                ("requirements", i, "id"),
            )
        if item.min_sl is None and not item.note:
            col.add(f"{label}: min_sl null needs a note saying why", ("requirements", i, "min_sl"))
    col.raise_if_any()
    standard = str(doc["standard"])
    return ComponentCatalog(standard=standard, requirements=tuple(item for _, item in items))


def parse_iso27001(text: str, source: str = FILE_ISO27001) -> AnnexA:
    """Validate and build the Annex A catalog."""
    col, doc = _load_yaml(source, text, "controls")
    raw = doc["controls"]
    items = _validate_items(col, "controls", raw, AnnexAControl, lambda e: e)
    previous: str | None = None
    seen: set[str] = set()
    for i, item in items:
        label = f"entry {i + 1} ({item.id})"
        clause, number = _annex_sort_key(item.id)
        if item.id in seen:
            col.add(f"{label}: duplicate id", ("controls", i, "id"))
        elif previous is not None and _annex_sort_key(item.id) <= _annex_sort_key(previous):
            col.add(f"{label}: out of clause order (comes after {previous})", ("controls", i, "id"))
        if _THEME_OF_CLAUSE[clause] is not item.theme:
            col.add(
                f"{label}: clause {clause} controls have theme {_THEME_OF_CLAUSE[clause].value}",
                ("controls", i, "theme"),
            )
        seen.add(item.id)
        previous = item.id
    col.raise_if_any()
    standard = str(doc["standard"])
    return AnnexA(standard=standard, controls=tuple(item for _, item in items))


def parse_mapping(
    text: str, requirements: Catalog, controls: AnnexA, source: str = FILE_MAPPING
) -> CatalogMapping:
    """Validate and build the SR/RE → Annex A mapping against the two catalogs it joins."""
    col, doc = _load_yaml(source, text, "mappings")
    raw = doc["mappings"]
    links: list[MappingLink] = []
    seen_reqs: set[str] = set()
    for i, group in enumerate(raw):
        req = group.get("requirement") if isinstance(group, dict) else None
        label = f"entry {i + 1} ({req})" if req else f"entry {i + 1}"
        if not isinstance(group, dict) or not isinstance(req, str):
            col.add(f"{label}: needs 'requirement' and 'controls'", ("mappings", i))
            continue
        extra = set(group) - {"requirement", "controls"}
        if extra:
            col.add(f"{label}: unknown keys {sorted(extra)}", ("mappings", i))
        if req not in requirements._by_id:
            try:
                hint = f"write it as {requirements.resolve(req)!r}"
            except UnknownRequirementError as exc:
                hint = f"closest is {exc.suggestion!r}"
            col.add(
                f"{label}: {req!r} is not a canonical IEC 62443-3-3 id; {hint}",
                ("mappings", i, "requirement"),
            )
            continue
        if req in seen_reqs:
            col.add(
                f"{label}: {req} is listed twice; merge the two entries",
                ("mappings", i, "requirement"),
            )
        seen_reqs.add(req)
        pairs = group.get("controls")
        if not isinstance(pairs, list) or not pairs:
            col.add(f"{label}: needs a non-empty list 'controls'", ("mappings", i, "controls"))
            continue
        seen_controls: set[str] = set()
        for j, pair in enumerate(pairs):
            path = ("mappings", i, "controls", j)
            if not isinstance(pair, dict):
                col.add(f"{label}: control {j + 1}: expected a mapping", path)
                continue
            try:
                link = MappingLink.model_validate({"requirement": req, **pair})
            except ValidationError as exc:
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"])
                    col.add(f"{label}: control {j + 1}: {where}: {err['msg']}", path)
                continue
            if link.control not in controls._by_id:
                col.add(
                    f"{label}: {link.control!r} is not an ISO/IEC 27001:2022 Annex A control", path
                )
                continue
            if link.control in seen_controls:
                col.add(f"{label}: {link.control} is listed twice", path)
                continue
            seen_controls.add(link.control)
            links.append(link)
    col.raise_if_any()
    return CatalogMapping(
        standard_from=str(doc["standard_from"]),
        standard_to=str(doc.get("standard_to", "")),
        links=tuple(links),
    )


@functools.cache
def load_62443_3_3() -> Catalog:
    """The IEC 62443-3-3 SR/RE catalog (cached)."""
    return parse_62443_3_3(_read_text(FILE_62443_3_3))


@functools.cache
def load_62443_4_2() -> ComponentCatalog:
    """The IEC 62443-4-2 component requirement catalog (cached)."""
    srs = (r.id for r in load_62443_3_3().system_requirements())
    return parse_62443_4_2(_read_text(FILE_62443_4_2), known_srs=srs)


@functools.cache
def load_iso27001() -> AnnexA:
    """The ISO/IEC 27001:2022 Annex A catalog (cached)."""
    return parse_iso27001(_read_text(FILE_ISO27001))


@functools.cache
def load_mapping() -> CatalogMapping:
    """The IEC 62443-3-3 → ISO/IEC 27001:2022 Annex A mapping (cached)."""
    return parse_mapping(_read_text(FILE_MAPPING), load_62443_3_3(), load_iso27001())


def normalise_requirement_id(text: str) -> str:
    """Canonical IEC 62443-3-3 id for a user-typed one.

    ``"SR1.1"``, ``"sr 1.1 re1"``, ``"SR 1.1(1)"`` and ``"SR 1.1 RE(1)"`` all resolve; an id
    the standard does not have raises :class:`UnknownRequirementError` with the closest one.
    """
    return load_62443_3_3().resolve(text)


__all__ = [
    "AnnexA",
    "AnnexAControl",
    "Catalog",
    "CatalogDataError",
    "CatalogMapping",
    "ComponentCatalog",
    "ComponentRequirement",
    "ComponentType",
    "MappingLink",
    "Relation",
    "Requirement",
    "Theme",
    "UnknownRequirementError",
    "load_62443_3_3",
    "load_62443_4_2",
    "load_iso27001",
    "load_mapping",
    "normalise_requirement_id",
    "parse_62443_3_3",
    "parse_62443_4_2",
    "parse_iso27001",
    "parse_mapping",
    "requirement_sort_key",
]
