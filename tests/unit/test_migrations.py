"""The Alembic migrations on a fresh SQLite file and, when a server answers, on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.storage.app_db import metadata
from bot.storage.migrate import alembic_config, upgrade
from tests.unit.supporters_db import postgres_schema, sqlite_url

SUPPORTER_TABLES = {"newsletter_records", "enquiries", "outbox"}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema() as url:
            yield url


def test_upgrade_creates_the_tables_as_app_db_describes_them_and_downgrade_removes_them(fresh_url):
    upgrade(fresh_url)
    engine = sa.create_engine(fresh_url)
    try:
        inspector = sa.inspect(engine)
        assert SUPPORTER_TABLES | {"link_clicks", "alembic_version"} <= set(inspector.get_table_names())
        assert {"ix_outbox_status_next_attempt_at"} <= {i["name"] for i in inspector.get_indexes("outbox")}
        assert {"ix_newsletter_records_email", "ix_newsletter_records_conversation_id"} <= {
            i["name"] for i in inspector.get_indexes("newsletter_records")
        }
        assert {"ix_enquiries_kind", "ix_enquiries_conversation_id"} <= {
            i["name"] for i in inspector.get_indexes("enquiries")
        }
        assert "feedback" in inspector.get_table_names()
        assert {"ix_feedback_conversation_id"} <= {i["name"] for i in inspector.get_indexes("feedback")}
        with engine.connect() as connection:
            head = ScriptDirectory.from_config(alembic_config(fresh_url)).get_current_head()
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
            # The migration and bot/storage/app_db.py describe the same schema.
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []

        command.downgrade(alembic_config(fresh_url), "0003")
        assert not {"staff", "staff_tokens", "audit_log"} & set(sa.inspect(engine).get_table_names())
        command.downgrade(alembic_config(fresh_url), "0002")
        assert "feedback" not in sa.inspect(engine).get_table_names()
        assert set(sa.inspect(engine).get_table_names()) >= SUPPORTER_TABLES
        command.downgrade(alembic_config(fresh_url), "0001")
        assert not SUPPORTER_TABLES & set(sa.inspect(engine).get_table_names())
        upgrade(fresh_url)  # and back
        assert set(sa.inspect(engine).get_table_names()) >= SUPPORTER_TABLES | {"feedback", "staff", "audit_log"}
    finally:
        engine.dispose()


def test_the_database_refuses_what_the_code_never_writes(fresh_url):
    upgrade(fresh_url)
    engine = sa.create_engine(fresh_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO newsletter_records (email, action, created_at) "
                    "VALUES ('a@example.com', 'maybe', CURRENT_TIMESTAMP)"
                )
            )
        row = (
            "INSERT INTO outbox (record_type, record_id, destination, payload, idempotency_key, status, attempts, "
            "next_attempt_at, created_at) VALUES ('enquiry', 1, 'team_email', '{}', 'same-key', 'pending', 0, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        with engine.begin() as connection:
            connection.execute(sa.text(row))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(sa.text(row))  # the idempotency key is unique
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO feedback (conversation_id, rating, message_text, created_at) "
                    "VALUES ('c', 'meh', 'text', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        engine.dispose()
