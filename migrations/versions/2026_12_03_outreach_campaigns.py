"""Holiday outreach: campaigns, their messages per language and one delivery per person

Revision ID: 36e49a10c9cf
Revises: 7c9e2f4a1d36
Create Date: 2026-12-03 18:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "36e49a10c9cf"
down_revision = "7c9e2f4a1d36"
branch_labels = None
depends_on = None

CAMPAIGN_STATES = ("draft", "awaiting_approval", "approved", "sending", "paused", "done",
                   "cancelled")
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "skipped", "cancelled")


def _one_of(column: str, values) -> str:
    return f"{column} IN ('" + "', '".join(values) + "')"


def _user(column: str, table: str):
    return sa.ForeignKeyConstraint([column], ["user_account.id"],
                                   name=op.f(f"fk_{table}_{column}_user_account"))


def upgrade():
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("occasion_id", sa.Integer(), nullable=True),
        sa.Column("occasion_date", sa.Date(), nullable=True),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("audience_filters", sa.JSON(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=True),
        sa.Column("is_local_morning", sa.Boolean(), nullable=False),
        sa.Column("rate_per_second", sa.Double(), nullable=True),
        sa.Column("pause_reason", sa.String(length=300), nullable=True),
        sa.Column("sender_until", sa.DateTime(), nullable=True),
        sa.Column("sender_token", sa.String(length=40), nullable=True),
        sa.Column("recipients_count", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(_one_of("state", CAMPAIGN_STATES), name=op.f("ck_campaign_state")),
        _user("approved_by_id", "campaign"),
        _user("created_by_id", "campaign"),
        sa.ForeignKeyConstraint(["audience_id"], ["audience.id"],
                                name=op.f("fk_campaign_audience_id_audience")),
        sa.ForeignKeyConstraint(["occasion_id"], ["occasion.id"],
                                name=op.f("fk_campaign_occasion_id_occasion")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_index(op.f("ix_campaign_state"), "campaign", ["state"])

    op.create_table(
        "campaign_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE",
                                name=op.f("fk_campaign_message_campaign_id_campaign")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_message")),
        sa.UniqueConstraint("campaign_id", "lang",
                            name=op.f("uq_campaign_message_campaign_id_lang")),
    )

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("lease_token", sa.String(length=40), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("lang", sa.String(length=5), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(_one_of("status", DELIVERY_STATES),
                           name=op.f("ck_delivery_status")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], ondelete="CASCADE",
                                name=op.f("fk_delivery_campaign_id_campaign")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE",
                                name=op.f("fk_delivery_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("campaign_id", "person_id",
                            name=op.f("uq_delivery_campaign_id_person_id")),
    )
    op.create_index("ix_delivery_due", "delivery", ["campaign_id", "status", "not_before"])
    op.create_index(op.f("ix_delivery_person_id"), "delivery", ["person_id"])


def downgrade():
    op.drop_index(op.f("ix_delivery_person_id"), table_name="delivery")
    op.drop_index("ix_delivery_due", table_name="delivery")
    op.drop_table("delivery")
    op.drop_table("campaign_message")
    op.drop_index(op.f("ix_campaign_state"), table_name="campaign")
    op.drop_table("campaign")
