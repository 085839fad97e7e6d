"""Inventory commands: ``inventory gaps`` (assets advisory matching cannot assess)."""

from __future__ import annotations

import click

from zonewarden.cli.common import (
    caller,
    db_option,
    emit_json,
    emit_rows,
    format_option,
    handle_errors,
    note,
    site_option,
)
from zonewarden.wording import count


@click.group("inventory")
def inventory_group() -> None:
    """What the inventory lacks for advisory matching.

    \b
    Examples:
      zonewarden inventory gaps
      zonewarden inventory gaps --format json
    """


@inventory_group.command("gaps")
@site_option
@format_option("table", "json", "csv")
@db_option
@handle_errors
def gaps_command(site_id: str | None, fmt: str, db_url: str | None) -> None:
    """Assets with a vendor but no product name and no model number: one item each.

    Such an asset cannot be told apart from any product of its vendor, so it gets no advisory
    findings; the ADVISORIES column says how many current advisories of its vendor (with its
    corporate lineage: Foxboro = Schneider Electric, Wonderware = AVEVA) it cannot be assessed
    against. Fill in the product (and model number) and re-import to assess it.

    \b
    Examples:
      zonewarden inventory gaps
      zonewarden inventory gaps --site pharma --format csv > gaps.csv
    """
    from zonewarden.services.queries.inventory import GAP_COLUMNS, site_inventory_gaps

    store, principal = caller(db_url)
    result = site_inventory_gaps(store, principal=principal, site_id=site_id)
    if fmt == "json":
        emit_json(result.as_dict())
        return
    emit_rows(result.rows(), GAP_COLUMNS, fmt, title=f"Inventory gaps of {result.site_name}")
    e = result.exposure
    note(f"{count(e.assets, 'asset')} without product and model number; {e.exposed_assets} of them "
         f"named by {count(e.advisories, 'advisory', 'advisories')} ({e.pairs} unassessed asset x advisory pairs)")


commands = [inventory_group]
