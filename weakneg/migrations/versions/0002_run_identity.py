"""Runs get a name, tags, notes, an archived flag and the device they actually used; the store gets an id of
its own, and run ids are never reused (SQLite AUTOINCREMENT), so an old artifacts folder can never pass for a
new run's.

Revision ID: 0002
Revises: 0001
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # SQLite needs the table rebuilt to get AUTOINCREMENT; a server database's sequences never reuse ids and
    # cannot drop a primary key other tables refer to, so it only adds the columns
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "runs", recreate="always" if sqlite else "auto", table_kwargs={"sqlite_autoincrement": True}
    ) as runs:
        runs.add_column(sa.Column("name", sa.String(200)))
        runs.add_column(sa.Column("tags", sa.JSON))
        runs.add_column(sa.Column("notes", sa.Text))
        runs.add_column(sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()))
        runs.add_column(sa.Column("device", sa.String(16)))
    meta = op.create_table(
        "store_meta", sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False)
    )
    op.bulk_insert(meta, [{"key": "store_id", "value": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("store_meta")
    with op.batch_alter_table("runs") as runs:
        for name in ("device", "archived", "notes", "tags", "name"):
            runs.drop_column(name)
