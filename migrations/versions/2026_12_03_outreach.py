"""Holiday outreach: the calendar of occasions, with the default occasions

Revision ID: b40cd5d7c523
Revises: 5d1e7c2a9b40
Create Date: 2026-12-03 16:32:27

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "b40cd5d7c523"
down_revision = "5d1e7c2a9b40"
branch_labels = None
depends_on = None

# Tết's reminder starts 45 days before 1 tháng Giêng, about five weeks before 23 tháng
# Chạp (7 or 8 days before Tết), when the Xuân Quê hương programme is held: its greetings
# and invitations must be ready by then. The other occasions keep the default of 30 days.
DEFAULTS = (
    # name, name_en, kind, month, day, remind_days_before
    ("Tết Dương lịch", "New Year's Day", "solar", 1, 1, 30),
    ("Ngày Giải phóng miền Nam", "Reunification Day", "solar", 4, 30, 30),
    ("Quốc tế Lao động", "International Workers' Day", "solar", 5, 1, 30),
    ("Ngày kỷ niệm Danh xưng Thanh Hóa", "Anniversary of the name Thanh Hóa", "solar", 5, 8,
     30),
    ("Quốc khánh", "National Day", "solar", 9, 2, 30),
    ("Tết Nguyên Đán", "Lunar New Year (Tết)", "lunar", 1, 1, 45),
    ("Giỗ Tổ Hùng Vương", "Hung Kings' Commemoration Day", "lunar", 3, 10, 30),
    ("Tết Trung thu", "Mid-Autumn Festival", "lunar", 8, 15, 30),
    ("Lễ hội Lam Kinh", "Lam Kinh Festival", "lunar", 8, 22, 30),
)


def upgrade():
    occasion = op.create_table(
        "occasion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("remind_days_before", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('solar', 'lunar')", name=op.f("ck_occasion_kind")),
        sa.CheckConstraint("day BETWEEN 1 AND 31", name=op.f("ck_occasion_day")),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_occasion_month")),
        sa.CheckConstraint("remind_days_before BETWEEN 0 AND 366",
                           name=op.f("ck_occasion_remind_days")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_occasion_created_by_id_user_account")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"],
                                name=op.f("fk_occasion_updated_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occasion")),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(occasion, [
        {"name": name, "name_en": name_en, "kind": kind, "month": month, "day": day,
         "remind_days_before": remind, "is_active": True, "created_at": now,
         "updated_at": now}
        for name, name_en, kind, month, day, remind in DEFAULTS
    ])


def downgrade():
    op.drop_table("occasion")
