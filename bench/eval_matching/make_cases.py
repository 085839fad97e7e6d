"""Build the labelled evaluation set ``cases.json`` from the shared CISA feed (2017-2023).

    .venv/bin/python bench/eval_matching/make_cases.py [--seed 14] [--out bench/eval_matching/cases.json]

Each case is one asset (spelled the way asset owners spell it) against one advisory, with the
label a careful reader of the advisory would give, the one-line reason taken from the advisory
(the product entry, its product status group and its range text) and the kind of case. The
labels come from the *construction* of the case, never from the matcher:

* ``below-bound`` (affected): the advisory says ``known_affected`` for ``< X`` / ``<= X`` and the
  asset runs a version this script builds below X (a lower last number, or X without its last
  service pack / update / hotfix, or X itself for ``<=``);
* ``all-versions`` (affected): ``known_affected`` for all versions (or no version at all);
* ``by-model`` (affected): the asset has the entry's order number (spaced and cased as on a
  label) and no product name, or a generic one;
* ``at-fixed-bound`` (not affected): the asset runs X for ``< X`` (the first fixed version) or
  the next version after X for ``<= X``; only for products whose every entry in the advisory
  has that same range, so no other entry can call the version affected;
* ``other-product`` (not affected): a product of the same vendor from another advisory that
  is no entry of this one, not a part of one and not a family one of them belongs to;
* ``no-version`` (needs review): the product is listed with a bounded range and the inventory
  records no version;
* ``less-specific`` (needs review): the inventory names only the first words of a product
  whose full name is in the advisory (``SIMATIC S7-1500`` for ``SIMATIC S7-1500 CPU 1518-4
  PN/DP MFP``), running an affected version;
* ``serial-bound`` (needs review): the range bounds a serial number or production date.

Then the spelling: vendor names by corporate lineage and aliases (Foxboro, Triconex,
Wonderware, Westinghouse, Allen-Bradley, Telemecanique, Belden, ABB for Hitachi Energy, ...),
legal forms and capitals; product names with the vendor's brand dropped or added, hyphens as
spaces, other capitals, long and short terms (Site Edition / SE, Runtime / RT), a plural,
a version moved into the product name; versions as ``2.9 Service Pack 1``, ``v2.9sp1``,
``Upd 4``, ``Hotfix 2``.

The output is frozen in the repository; this script documents how it was made and rebuilds
it deterministically (``--seed``).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from zonewarden.domain.advisories import ProductStatus  # noqa: E402
from zonewarden.engines.products import flatten_advisory  # noqa: E402

CISA = Path(os.environ.get("ZONEWARDEN_SHARED_DATA", ROOT.parent / "shared" / "data")) / "csaf" / "cisa-ics" / "csaf_files" / "OT" / "white"

_UPPER = re.compile(
    r"^(?:all\s+versions\s*|versions?\s*|vers:(?:generic|all)/)?\s*(?P<op><=|<)\s*"
    r"(?P<v>[vV]?\d+(?:\.\d+)*)(?P<q>(?:\s*(?:SP|Update|HF)\s*\d+)*)\s*$",
    re.I,
)
_QUAL = re.compile(r"(SP|Update|HF)\s*(\d+)", re.I)
_ALL = re.compile(r"^(?:all\s+versions|\*|vers:all/\*)$", re.I)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"all", "versions", "version", "and", "the", "for", "of", "with", "series", "family", "products", "product",
         "firmware", "software", "models", "model", "devices", "device", "only", "prior", "earlier", "later"}

# Owner spellings of the advisory's vendor, by vendor and by product keyword (corporate lineage).
VENDOR_SPELLINGS = {
    "siemens": ["SIEMENS", "Siemens AG", "siemens"],
    "rockwell": ["Allen-Bradley", "Rockwell", "Allen Bradley", "Rockwell Automation Inc."],
    "schneider": ["Schneider", "Schneider Electric SE", "SCHNEIDER ELECTRIC"],
    "aveva": ["AVEVA Group plc", "Aveva", "Schneider Electric"],
    "osisoft": ["OSIsoft", "OSIsoft, LLC", "AVEVA"],
    "mitsubishi": ["MITSUBISHI", "Mitsubishi Electric Corp.", "Mitsubishi"],
    "hitachi energy": ["ABB", "Hitachi ABB Power Grids", "Hitachi Energy Ltd."],
    "abb": ["ABB Ltd.", "ABB Ltd", "abb"],
    "general electric": ["GE", "General Electric Company", "GE Digital"],
    "emerson": ["Emerson Process Management", "Emerson Electric Co.", "EMERSON"],
    "johnson controls": ["JCI", "Johnson Controls International plc", "Johnson Controls"],
    "moxa": ["MOXA Inc.", "Moxa Inc", "MOXA"],
    "omron": ["OMRON Corporation", "OMRON"],
    "honeywell": ["Honeywell International Inc.", "HONEYWELL"],
    "phoenix contact": ["PHOENIX CONTACT GmbH & Co. KG", "Phoenix Contact"],
    "yokogawa": ["Yokogawa Electric Corporation", "YOKOGAWA"],
    "delta electronics": ["Delta Electronics, Inc.", "DELTA"],
    "advantech": ["Advantech Co., Ltd.", "ADVANTECH"],
    "codesys": ["3S-Smart Software Solutions", "CODESYS GmbH", "3S"],
    "hirschmann": ["Belden", "Hirschmann Automation and Control GmbH"],
    "belden": ["Hirschmann", "Belden Inc."],
}
LINEAGE_BY_PRODUCT = [
    (re.compile(r"foxboro", re.I), ["Foxboro", "Invensys Foxboro"]),
    (re.compile(r"tricon|triconex|trident", re.I), ["Triconex", "Invensys Triconex"]),
    (re.compile(r"intouch|wonderware|system platform|historian|indusoft", re.I), ["Wonderware", "Invensys Wonderware"]),
    (re.compile(r"ovation", re.I), ["Westinghouse", "Westinghouse Process Control"]),
    (re.compile(r"modicon|tsx|quantum|premium", re.I), ["Modicon", "Telemecanique"]),
    (re.compile(r"citect", re.I), ["Citect"]),
    (re.compile(r"\bpi\b|pi server|pi vision|pi web", re.I), ["OSIsoft"]),
    (re.compile(r"ruggedcom|ros\b", re.I), ["RuggedCom"]),
    (re.compile(r"micrologix|controllogix|compactlogix|powerflex|guardlogix|1756|1769|1766", re.I), ["Allen-Bradley"]),
]
BRANDS = ["Wonderware ", "Allen-Bradley ", "Modicon ", "Schneider Electric "]
TERMS = [("Site Edition", "SE"), ("Machine Edition", "ME"), ("Runtime", "RT"), ("Professional", "Pro")]


def vendor_key(vendor: str) -> str:
    low = vendor.lower()
    for key in VENDOR_SPELLINGS:
        if key in low:
            return key
    return low


def words(text: str | None, brand: str = "") -> frozenset[str]:
    """Words of a name, without stop words and without the vendor's own name words."""
    drop = _STOP | set(_WORD.findall(brand.lower()))
    return frozenset(w for w in _WORD.findall((text or "").lower()) if w not in drop)


_SERIES = re.compile(r"\bV(\d+(?:\.\d+)*)\b")


def owner_vendor(rng: random.Random, vendor: str, product: str) -> str:
    choices = []
    for pattern, names in LINEAGE_BY_PRODUCT:
        if pattern.search(product):
            choices += names
    choices += VENDOR_SPELLINGS.get(vendor_key(vendor), [vendor.strip().upper(), vendor.strip() + " Inc."])
    return rng.choice(choices)


def owner_product(rng: random.Random, product: str) -> tuple[str, str]:
    """A spelling of the product an owner might write, and what was changed."""
    out, how = product, []
    for brand in BRANDS:
        if out.startswith(brand) and rng.random() < 0.7:
            out, how = out[len(brand):], [*how, "brand dropped"]
    for long, short in TERMS:
        if long in out and rng.random() < 0.7:
            out, how = out.replace(long, short), [*how, f"{long} as {short}"]
    if camel_split(out) != out and rng.random() < 0.4:
        out, how = camel_split(out), [*how, "joined word split"]
    r = rng.random()
    if r < 0.25 and "-" in out:
        out, how = out.replace("-", " "), [*how, "hyphens as spaces"]
    elif r < 0.45:
        out, how = out.upper(), [*how, "capitals"]
    elif r < 0.6:
        out, how = out.lower(), [*how, "lower case"]
    elif r < 0.7 and re.search(r"[a-z]{4}$", out) and not out.lower().endswith("s"):
        out, how = out + "s", [*how, "plural"]
    return " ".join(out.split()), ", ".join(how) or "as written"


def parse_upper(text: str) -> tuple[str, list[int], list[tuple[str, int]], str] | None:
    m = _UPPER.match(text.strip())
    if not m:
        return None
    nums = [int(x) for x in m.group("v").lstrip("vV").split(".")]
    quals = [(q.group(1).upper() if q.group(1).lower() != "update" else "Update", int(q.group(2))) for q in _QUAL.finditer(m.group("q"))]
    return m.group("op"), nums, quals, m.group("v")


def fmt(nums: list[int], quals: list[tuple[str, int]]) -> str:
    base = ".".join(map(str, nums))
    return " ".join([base, *(f"{q} {n}" if q == "Update" else f"{q}{n}" for q, n in quals)])


def below(nums: list[int], quals: list[tuple[str, int]]) -> str | None:
    if quals:
        q, n = quals[-1]
        return fmt(nums, [*quals[:-1], (q, n - 1)] if n > 1 else quals[:-1])
    for i in range(len(nums) - 1, -1, -1):
        if nums[i] > 0:
            out = [*nums[:i], nums[i] - 1, *nums[i + 1:]]
            return fmt(out, []) if any(out) else None
    return None


def above(nums: list[int], quals: list[tuple[str, int]]) -> str:
    if quals:
        q, n = quals[-1]
        return fmt(nums, [*quals[:-1], (q, n + 1)])
    return fmt([*nums[:-1], nums[-1] + 1], [])


_FIX = re.compile(r"(?:\bv|\bversions?\s+|\brelease\s+|\bfirmware\s+|\bto\s+)(\d+(?:\.\d+)+)", re.I)


def named_fix(adv: object, pid: str, nums: list[int]) -> str | None:
    """The highest version a vendor_fix remediation of the entry names above the bound, if any."""
    best = None
    for v in adv.vulnerabilities:  # type: ignore[attr-defined]
        for r in v.remediations:
            if r.category == "vendor_fix" and pid in r.product_ids:
                for m in _FIX.finditer(r.details or ""):
                    parts = [int(x) for x in m.group(1).split(".")]
                    if parts[:1] == nums[:1] and parts > nums and (best is None or parts > best):
                        best = parts
    return ".".join(map(str, best)) if best else None


def camel_split(text: str) -> str:
    """``FactoryTalk`` -> ``Factory Talk``, ``WinCC`` stays (an owner splits words, not letters)."""
    return re.sub(r"\b([A-Z][a-z]{2,})([A-Z][a-z]{2,})\b", r"\1 \2", text)


def owner_version(rng: random.Random, version: str) -> tuple[str, str]:
    r = rng.random()
    if r < 0.3:
        return "V" + version, "V prefix"
    if r < 0.45 and "SP" in version:
        return version.replace("SP", " Service Pack ").replace("  ", " "), "Service Pack in words"
    if r < 0.55:
        return "v" + version.replace(" ", "").lower(), "lower case, no spaces"
    if r < 0.65 and "Update" in version:
        return version.replace("Update ", "Upd"), "Upd"
    if r < 0.7 and "HF" in version:
        return version.replace("HF", "Hotfix "), "Hotfix in words"
    return version, "as written"


def build(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    files = sorted(CISA.glob("20*/*.json"))
    by_vendor_products: dict[str, set[str]] = defaultdict(set)
    by_vendor_models: dict[str, set[str]] = defaultdict(set)
    advisories = []
    for path in files:
        adv = flatten_advisory(orjson.loads(path.read_bytes()), source=str(path))
        advisories.append((path, adv))
        for e in adv.products:
            if e.vendor and e.product:
                by_vendor_products[vendor_key(e.vendor)].add(e.product)
                by_vendor_models[vendor_key(e.vendor)].update(e.model_numbers)
    rng.shuffle(advisories)
    cases: list[dict[str, object]] = []
    quota = defaultdict(int)
    limits = {"below-bound": 110, "all-versions": 30, "by-model": 25, "at-fixed-bound": 90, "other-product": 90,
              "no-version": 25, "less-specific": 25, "serial-bound": 10, "excluded-model": 25}
    per_vendor: dict[str, int] = defaultdict(int)
    for path, adv in advisories:
        status: dict[str, set[ProductStatus]] = defaultdict(set)
        for v in adv.vulnerabilities:
            for group, ids in v.status.items():
                for pid in ids:
                    status[pid].add(group)
        entries = [e for e in adv.products if e.vendor and e.product and e.product_id in status]
        if not entries:
            continue
        vkey = vendor_key(entries[0].vendor or "")
        if per_vendor[vkey] >= (60 if vkey == "siemens" else 25):
            continue
        ref = f"{path.parent.name}/{path.name}"
        with_models = [e for e in entries if e.model_numbers]
        entry = rng.choice(with_models if with_models and rng.random() < 0.5 else entries)
        groups = status[entry.product_id]
        if groups != {ProductStatus.KNOWN_AFFECTED}:
            continue
        text = (entry.version_text or "").strip()
        prod = entry.product or ""
        if len(prod) > 60 or "(" in text:
            continue
        same = [e for e in adv.products if e.product_id in status and words(e.product) <= words(prod)]
        quoted = f"{entry.product_id} {prod!r} {text or '(no version)'!r}: known_affected"
        made: list[dict[str, object]] = []

        def case(kind: str, label: str, why: str, vendor: str, product: str | None, version: str | None,
                 spelled: str, model: str | None = None) -> None:
            if quota[kind] >= limits[kind]:
                return
            quota[kind] += 1
            made.append({  # noqa: B023 - called only inside this iteration
                "id": f"{adv.id}:{kind}:{len(cases) + len(made)}", "advisory": ref, "kind": kind, "label": label,  # noqa: B023
                "why": why, "spelling": spelled,
                "asset": {"vendor": vendor, "product": product, "model_number": model, "version": version},
            })

        vendor = owner_vendor(rng, entry.vendor or "", prod)
        product, how = owner_product(rng, prod)
        upper = parse_upper(text) if text else None
        if upper:
            op, nums, quals, raw = upper
            lo = below(nums, quals) if op == "<" else fmt(nums, quals)
            if lo:
                ver, vhow = owner_version(rng, lo)
                if rng.random() < 0.15 and re.fullmatch(r"\d+\.\d+ (SP|Update ?)\d+", lo) and not re.search(r"\d", product):
                    line, rest = lo.split(" ", 1)
                    product, ver, vhow = f"{product} V{line}", rest, "version split between product name and version"
                case("below-bound", "affected", f"{quoted}; {lo} is below the bound", vendor, product, ver, f"{how}; {vhow}")
            uniform = all((e.version_text or "").strip() == text for e in same)
            if uniform and not any(e.model_numbers for e in same):
                hi = fmt(nums, quals) if op == "<" else above(nums, quals)
                fix = named_fix(adv, entry.product_id, nums)
                if fix is not None:
                    hi = fix  # the remediation names the fixed version: versions before it are undecided
                ver, vhow = owner_version(rng, hi)
                case("at-fixed-bound", "not-affected", f"{quoted}; {hi} is not {op} {raw}{'' if not quals else ' ' + fmt([], quals).strip()}",
                     owner_vendor(rng, entry.vendor or "", prod), owner_product(rng, prod)[0], ver, vhow)
            if not entry.model_numbers and rng.random() < 0.4:
                case("no-version", "needs-review", f"{quoted}; the inventory records no version", vendor, product, None, how)
            pwords = [w for w in re.sub(r"\([^()]*\)", " ", prod).split() if not re.fullmatch(r"V\d+(?:\.\d+)*", w)]
            if len(pwords) >= 3 and lo and rng.random() < 0.5 and not entry.model_numbers:
                short = " ".join(pwords[: len(pwords) - 1])
                if not any(words(e.product) == words(short) for e in adv.products) and len(words(short)) >= 2 \
                        and words(short) != words(re.sub(r"\([^()]*\)", " ", prod)):
                    case("less-specific", "needs-review", f"{quoted}; the inventory only says {short!r}",
                         vendor, short, lo, "last word of the product name missing")
        elif not text or _ALL.match(text):
            series = _SERIES.search(prod)
            some = f"{series.group(1)}.2" if series else rng.choice(["1.0", "V2.3", "4.1.2", None])
            case("all-versions", "affected", f"{quoted}; every version is affected", vendor, product, some, how)
        lo_any = (below(upper[1], upper[2]) if upper[0] == "<" else fmt(upper[1], upper[2])) if upper else None
        if entry.model_numbers and (not text or _ALL.match(text) or lo_any):
            model = rng.choice(entry.model_numbers)
            spaced = model[:4] + " " + model[4:] if len(model) > 8 and rng.random() < 0.5 else model.lower()
            case("by-model", "affected", f"{quoted}; the advisory lists order number {model}", vendor,
                 None, lo_any or rng.choice(["V1.0", "2.1"]), "order number only", spaced)
            listed_models = {m for e in adv.products for m in e.model_numbers}
            siblings = sorted(m for m in by_vendor_models[vkey] if m not in listed_models and m[:7] == model[:7])
            if siblings:
                other_model = rng.choice(siblings)
                case("excluded-model", "not-affected",
                     f"{quoted}; the advisory lists order numbers {', '.join(entry.model_numbers[:3])}; {other_model} is not one of them",
                     vendor, product, lo_any or "1.0", "another order number of the same family", other_model)
        for e2 in entries:
            if re.search(r"serial|production", e2.version_text or "", re.I):
                case("serial-bound", "needs-review", f"{e2.product_id} {e2.product!r} {e2.version_text!r}: known_affected; the range bounds a serial number or date",
                     owner_vendor(rng, e2.vendor or "", e2.product or ""), e2.product, "1.0", "as written")
                break
        # A product of the same vendor the advisory does not name (not a part or family of one).
        brand = entries[0].vendor or ""
        listed = [words(e.product, brand) for e in adv.products]
        others = sorted(p for p in by_vendor_products[vkey]
                        if not any(words(p, brand) <= w or w <= words(p, brand) for w in listed) and 0 < len(p) <= 40)
        if others:
            other = rng.choice(others)
            names = ", ".join(sorted({e.product or "" for e in adv.products})[:3])
            case("other-product", "not-affected",
                 f"{adv.id} lists only {names}{' ...' if len({e.product for e in adv.products}) > 3 else ''}; {other!r} is another product of the vendor",
                 owner_vendor(rng, entry.vendor or "", other), owner_product(rng, other)[0], rng.choice(["1.0", "V3.2 SP1", None]), "another product")
        if made:
            per_vendor[vkey] += len(made)
            cases += made
    return cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("cases.json"))
    args = ap.parse_args()
    cases = build(args.seed)
    args.out.write_bytes(orjson.dumps({"seed": args.seed, "source": "CISA CSAF feed 2017-2023 (shared data)", "cases": cases},
                                      option=orjson.OPT_INDENT_2))
    kinds: dict[str, int] = defaultdict(int)
    for c in cases:
        kinds[str(c["kind"])] += 1
    print(f"{len(cases)} cases -> {args.out}: {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
