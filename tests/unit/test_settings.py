from __future__ import annotations

import pytest

from bot.settings import PROJECT_ROOT, Settings, SettingsError
from bot.supporters.delivery_config import DeliveryConfig, SmtpConfig


def test_defaults_run_everything_on_loopback_with_the_embedded_database():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///var/ijm.db"
    assert (settings.rasa_port, settings.action_port, settings.web_port) == (5005, 5055, 8000)
    assert settings.bind_host == "127.0.0.1"
    assert settings.action_server_url == "http://127.0.0.1:5055/webhook"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.web_url == "http://127.0.0.1:8000"
    assert settings.model_dir == PROJECT_ROOT / "models"
    assert settings.max_message_chars == 2000
    assert settings.public_url == "http://127.0.0.1:8000"
    # The web app's own page may open the chat, whether the address bar says 127.0.0.1 or localhost.
    assert settings.allowed_origins == ("http://127.0.0.1:8000", "http://localhost:8000")


def test_allowed_origins_follow_the_public_address_or_the_setting():
    public = Settings.from_env({"PUBLIC_URL": "https://chat.ijm.ca/", "WEB_PORT": "9000"})
    assert public.allowed_origins == ("https://chat.ijm.ca", "http://127.0.0.1:9000", "http://localhost:9000")
    listed = Settings.from_env({"ALLOWED_ORIGINS": "https://www.ijm.ca, https://ijm.ca/"})
    assert listed.allowed_origins == ("https://www.ijm.ca", "https://ijm.ca")


def test_environment_overrides_and_derived_urls_follow_the_ports():
    settings = Settings.from_env(
        {
            "RASA_PORT": "6005",
            "ACTION_PORT": "6055",
            "WEB_PORT": "9000",
            "BIND_HOST": "0.0.0.0",
            "MODEL_DIR": "/srv/models",
            "DATABASE_URL": "postgresql://db/ijm",
        }
    )
    assert settings.action_server_url == "http://127.0.0.1:6055/webhook"
    assert settings.rasa_url == "http://127.0.0.1:6005"
    assert settings.web_url == "http://127.0.0.1:9000"
    assert str(settings.model_dir) == "/srv/models"
    assert settings.database_url == "postgresql://db/ijm"


@pytest.mark.parametrize(("name", "value"), [("RASA_PORT", "abc"), ("WEB_PORT", "0"), ("MAX_MESSAGE_CHARS", "-3")])
def test_an_unusable_number_is_refused_with_its_name(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_delivery_defaults_to_nothing_configured():
    settings = Settings.from_env({})
    assert (settings.newsletter_webhook_url, settings.leads_webhook_url, settings.smtp_host) == (None, None, None)
    assert (settings.smtp_port, settings.smtp_starttls, settings.smtp_user, settings.smtp_password) == (
        25,
        False,
        None,
        None,
    )
    assert settings.smtp_from == "assistant@ijm.ca"
    assert (settings.delivery_timeout, settings.outbox_poll_seconds, settings.outbox_max_backoff) == (10, 5, 3600)
    assert DeliveryConfig.from_settings(settings) == DeliveryConfig(None, None, None, 10.0, 3600.0)


def test_delivery_settings_are_read_and_the_password_is_never_shown():
    settings = Settings.from_env(
        {
            "NEWSLETTER_WEBHOOK_URL": " https://hooks.example.org/news ",
            "LEADS_WEBHOOK_URL": "http://crm.local/leads",
            "SMTP_HOST": "smtp.ijm.ca",
            "SMTP_PORT": "587",
            "SMTP_STARTTLS": "yes",
            "SMTP_USER": "assistant",
            "SMTP_PASSWORD": "s3cret pass",
            "SMTP_FROM": "bot@ijm.ca",
            "DELIVERY_TIMEOUT": "3",
            "OUTBOX_POLL_SECONDS": "2",
            "OUTBOX_MAX_BACKOFF": "600",
        }
    )
    delivery = DeliveryConfig.from_settings(settings)
    assert delivery.newsletter_webhook_url == "https://hooks.example.org/news"
    assert delivery.leads_webhook_url == "http://crm.local/leads"
    assert delivery.smtp == SmtpConfig("smtp.ijm.ca", 587, True, "assistant", "s3cret pass", "bot@ijm.ca")
    assert (delivery.timeout_seconds, delivery.max_backoff_seconds, settings.outbox_poll_seconds) == (3, 600, 2)
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(delivery)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSLETTER_WEBHOOK_URL", "hooks.example.org/news"),
        ("LEADS_WEBHOOK_URL", "ftp://crm.local/leads"),
        ("SMTP_STARTTLS", "maybe"),
        ("SMTP_PORT", "0"),
        ("DELIVERY_TIMEOUT", "0"),
        ("OUTBOX_POLL_SECONDS", "soon"),
        ("OUTBOX_MAX_BACKOFF", "0"),
    ],
)
def test_an_unusable_delivery_setting_is_refused_with_its_name(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_topology_defaults_to_no_redis_and_no_rabbitmq():
    settings = Settings.from_env({})
    assert (settings.redis_url, settings.rabbitmq_url) == (None, None)
    assert (settings.redis_key_prefix, settings.rabbitmq_queue) == ("ijm", "ijm_assistant_events")
    assert (settings.redis_timeout, settings.rabbitmq_timeout) == (2, 3)


def test_topology_settings_are_read_and_their_passwords_never_shown():
    settings = Settings.from_env(
        {
            "REDIS_URL": " redis://:r3dispass@cache:6380/2 ",
            "REDIS_KEY_PREFIX": "ijmstaging",
            "REDIS_TIMEOUT": "5",
            "RABBITMQ_URL": "amqps://bot:amqpp4ss@mq/ijm",
            "RABBITMQ_QUEUE": "ijm.events",
            "RABBITMQ_TIMEOUT": "4",
        }
    )
    assert settings.redis_url == "redis://:r3dispass@cache:6380/2"
    assert settings.rabbitmq_url == "amqps://bot:amqpp4ss@mq/ijm"
    assert (settings.redis_key_prefix, settings.redis_timeout) == ("ijmstaging", 5)
    assert (settings.rabbitmq_queue, settings.rabbitmq_timeout) == ("ijm.events", 4)
    assert "r3dispass" not in repr(settings) and "amqpp4ss" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REDIS_URL", "cache:6379", "REDIS_URL must look like redis://"),
        ("REDIS_URL", "http://cache:6379/0", "REDIS_URL must look like redis://"),
        ("REDIS_URL", "redis://cache:port/0", "REDIS_URL has a port that is not a number"),
        ("REDIS_URL", "redis://cache:6379/zero", "REDIS_URL must end with a database number"),
        ("REDIS_URL", "redis:///0", "REDIS_URL must name a host"),
        ("RABBITMQ_URL", "rabbit:5672", "RABBITMQ_URL must look like amqp://"),
        ("RABBITMQ_URL", "amqp://guest:guest@:5672/", "RABBITMQ_URL must name a host"),
        ("REDIS_KEY_PREFIX", "ijm:prod", "REDIS_KEY_PREFIX must be letters and digits"),
        ("RABBITMQ_QUEUE", "amq.gen", "RABBITMQ_QUEUE must be a RabbitMQ queue name"),
        ("RABBITMQ_QUEUE", "my queue", "RABBITMQ_QUEUE must be a RabbitMQ queue name"),
        ("REDIS_TIMEOUT", "0", "REDIS_TIMEOUT must be at least 1"),
        ("RABBITMQ_TIMEOUT", "fast", "RABBITMQ_TIMEOUT must be a whole number"),
    ],
)
def test_an_unusable_topology_setting_is_refused_with_its_name(name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({name: value})


def test_a_refused_url_never_shows_its_password():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"RABBITMQ_URL": "amqp://bot:hunter2@mq:notaport/"})
    assert "hunter2" not in str(refused.value)
