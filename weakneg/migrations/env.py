"""Alembic's entry: run the revisions on the connection `migrations.upgrade` passes in (no alembic.ini)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)  # batch: SQLite alters tables by copying them
with context.begin_transaction():
    context.run_migrations()
