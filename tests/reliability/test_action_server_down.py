"""The action server down mid-conversation: the visitor gets an apology and a contact, not silence; once it is
back, the same conversation goes on with its history (issue #7). Real Rasa server, real action server, SQLite."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.reliability.services import APOLOGY, project_services


def test_an_apology_while_the_action_server_is_down_then_the_conversation_goes_on(tmp_path):
    database_url = f"sqlite:///{tmp_path}/ijm.db"
    with project_services(database_url) as services:
        services.start("Rasa server")  # and no action server
        sender = f"reliability-{uuid.uuid4().hex[:8]}"
        reply = services.say(sender, "how can I donate?")
        assert APOLOGY in reply and "info@ijm.ca" in reply and "911" in reply

        services.start("action server")
        reply = services.say(sender, "how can I donate?")
        assert "/go/donate" in reply and APOLOGY not in reply

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        texts = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"), {"s": sender}
        ).all()
    engine.dispose()
    assert len(texts) == 2  # one conversation, both messages kept
