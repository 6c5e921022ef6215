"""Saving what a journey collected: the database and the delivery destinations, from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.content.contacts import Contact, contacts
from bot.content.supporters import enquiry_messages
from bot.settings import Settings
from bot.storage.database import resolve_database_url
from bot.supporters.delivery_config import DeliveryConfig
from bot.supporters.records import Origin, engine_for, record_enquiry

logger = logging.getLogger(__name__)
T = TypeVar("T")


def origin_of(tracker: Tracker) -> Origin:
    return Origin(conversation_id=tracker.sender_id, channel=tracker.get_latest_input_channel())


def save(write: Callable[[sa.engine.Engine, DeliveryConfig], T]) -> T | None:
    """Run `write` against the app database; None when the database failed (logged, nothing half-written:
    each record and its outbox rows are one transaction)."""
    settings = Settings.from_env()
    try:
        return write(engine_for(resolve_database_url(settings.database_url)), DeliveryConfig.from_settings(settings))
    except sa.exc.SQLAlchemyError:
        logger.exception("could not save a supporter record")
        return None


def read(query: Callable[[sa.engine.Engine], T]) -> T | None:
    """Run a read-only `query` against the app database; None when the database failed (logged)."""
    try:
        return query(engine_for(resolve_database_url(Settings.from_env().database_url)))
    except sa.exc.SQLAlchemyError:
        logger.exception("could not read the supporter records")
        return None


def fallback_contact_fields() -> dict[str, str]:
    """Who to contact when saving failed: the general contact, for the save_failed messages."""
    contact = contacts().get("general")
    return {"name": contact.name, "details": contact.details()}


def submit_enquiry(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    kind: str,
    team: Contact,
    name: str | None,
    email: str,
    details: dict[str, str],
    thank_you: str,
) -> bool:
    """Store an enquiry for `team` and queue its delivery; say `thank_you`, or that it could not be saved."""
    saved = save(
        lambda engine, delivery: record_enquiry(
            engine,
            kind=kind,
            team=team.key,
            team_email=team.email,
            name=name,
            email=email,
            details=details,
            origin=origin_of(tracker),
            delivery=delivery,
        )
    )
    if saved is None:
        dispatcher.utter_message(text=enquiry_messages()("save_failed", **fallback_contact_fields()))
        return False
    dispatcher.utter_message(text=thank_you)
    return True
