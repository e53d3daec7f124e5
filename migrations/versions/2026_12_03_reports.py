"""Statistics cells, annual reports and API clients

Revision ID: 5d1e7c2a9b40
Revises: 878aa921996a
Create Date: 2026-12-03 15:40:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "5d1e7c2a9b40"
down_revision = "878aa921996a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stat_cell",
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("unit_code", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "unit_code", "value", name=op.f("pk_stat_cell")),
    )
    op.create_table(
        "stat_build",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("cell_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_build")),
    )
    op.create_table(
        "annual_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cut_off", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_annual_report_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annual_report")),
    )
    with op.batch_alter_table("annual_report", schema=None) as batch_op:
        batch_op.create_index("ix_annual_report_year", ["year", "created_at"], unique=False)

    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_api_client_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("token_prefix", name=op.f("uq_api_client_token_prefix")),
    )


def downgrade():
    op.drop_table("api_client")
    with op.batch_alter_table("annual_report", schema=None) as batch_op:
        batch_op.drop_index("ix_annual_report_year")
    op.drop_table("annual_report")
    op.drop_table("stat_build")
    op.drop_table("stat_cell")
