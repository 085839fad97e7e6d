"""Asset support facts as typed columns, with an index covering what ``check`` reads, so the
check of a 100k-asset site reads its assets from one index instead of every row's JSON.

Revision ID: 0005
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

_COVERED = ["site_id", "seq", "id", "type", "zone_id", "end_of_support", "vendor_support"]


def upgrade() -> None:
    op.add_column("assets", sa.Column("end_of_support", sa.String(10)))
    op.add_column("assets", sa.Column("vendor_support", sa.String(32)))
    # Backfill from the JSON each row keeps (the same values the import now writes).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE assets SET end_of_support = data->>'end_of_support', vendor_support = data->>'vendor_support'"
        )
    else:
        op.execute(
            "UPDATE assets SET end_of_support = json_extract(data, '$.end_of_support'), "
            "vendor_support = json_extract(data, '$.vendor_support')"
        )
    op.create_index("ix_assets_check_facts", "assets", _COVERED)


def downgrade() -> None:
    op.drop_index("ix_assets_check_facts", table_name="assets")
    op.drop_column("assets", "vendor_support")
    op.drop_column("assets", "end_of_support")
