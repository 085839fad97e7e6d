"""Regenerate the CSV profile tables in docs/site-file.md from src/zonewarden/io/csv_profiles/.

Usage: python scripts/gen_csv_profile_docs.py   (rewrites the part between the csv-profiles markers)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from zonewarden.io import yamlio
from zonewarden.io.csv_profiles import all_profiles

DOC = Path(__file__).resolve().parents[1] / "docs" / "site-file.md"
BEGIN, END = "<!-- csv-profiles:begin (scripts/gen_csv_profile_docs.py) -->", "<!-- csv-profiles:end -->"


def tables() -> str:
    out = []
    for p in all_profiles():
        data = yamlio.loads((resources.files("zonewarden.io.csv_profiles") / f"{p.name}.yaml").read_bytes())
        out.append(f"#### `--profile {p.name}`: {p.title}\n")
        out.append("| zonewarden field | the tool's columns (in order of preference) |\n|---|---|")
        out.extend(f"| `{f}` | {', '.join('`' + c + '`' for c in cols)} |" for f, cols in p.columns.items())
        out.append("")
        out.append(f"*Product and model.* {p.product_model}\n")
        if data.get("ignore"):
            out.append("*Not used, and why:* " + "; ".join(f"`{k}` ({v})" for k, v in data["ignore"].items()) + ".\n")
        out.append("*Types:* " + ", ".join(f"{k} → `{v}`" for k, v in (data.get("types") or {}).items()) + ".\n")
        out.append(f"*Source.* {p.source}\n")
        out.append(f"*How sure.* {p.certainty}\n")
    return "\n".join(out)


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n\n{tables()}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
