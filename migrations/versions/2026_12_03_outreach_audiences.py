"""Holiday outreach: audiences, saved filters of the people to write to

Revision ID: 7c9e2f4a1d36
Revises: b40cd5d7c523
Create Date: 2026-12-03 17:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "7c9e2f4a1d36"
down_revision = "b40cd5d7c523"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_audience_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience")),
    )


def downgrade():
    op.drop_table("audience")
