"""Alembic's environment: the URL comes from the caller (bot.storage.migrate), never from a file."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from bot.storage.app_db import metadata

url = context.config.attributes["database_url"]
engine = sa.create_engine(url, future=True)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
