from __future__ import annotations

import pytest

from bot.settings import PROJECT_ROOT, Settings, SettingsError


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
    assert settings.allowed_origins == ("http://127.0.0.1:8000",)


def test_allowed_origins_follow_the_public_address_or_the_setting():
    public = Settings.from_env({"PUBLIC_URL": "https://chat.ijm.ca/", "WEB_PORT": "9000"})
    assert public.allowed_origins == ("https://chat.ijm.ca", "http://127.0.0.1:9000")
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
