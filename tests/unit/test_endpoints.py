"""The endpoints file Rasa gets (bot/endpoints.py): sections added from REDIS_URL / RABBITMQ_URL, no secrets
written, and read by Rasa 3.6 itself as meant."""

from __future__ import annotations

import os
import stat
import time

import pytest
import yaml

from bot.cli import service_specs
from bot.endpoints import (
    RABBITMQ_PASSWORD_VARIABLE,
    REDIS_PASSWORD_VARIABLE,
    parse_amqp_url,
    parse_redis_url,
    rasa_endpoints,
    unreachable_services,
)
from bot.model import RUN_TUNING_ENV
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from tests.e2e.harness import free_port

REDIS = "redis://ijm:s3cr%40t@cache.internal:6380/4"
RABBIT = "amqp://bot:p%2Fss@mq.internal:5673/ijm%2Fprod"


def generated(tmp_path, env: dict[str, str]):
    settings = Settings.from_env(env)
    endpoints = rasa_endpoints(settings, out_dir=tmp_path)
    return endpoints, endpoints.path.read_text(encoding="utf-8")


def test_nothing_configured_gives_rasa_the_project_file_unchanged(tmp_path):
    endpoints, _ = generated(tmp_path, {})
    assert endpoints.path == PROJECT_ROOT / "endpoints.yml"
    assert endpoints.env == {}
    assert list(tmp_path.iterdir()) == []


def test_redis_url_adds_the_lock_store_and_rabbitmq_url_the_event_broker(tmp_path):
    endpoints, text = generated(
        tmp_path,
        {"REDIS_URL": REDIS, "REDIS_TIMEOUT": "3", "RABBITMQ_URL": RABBIT, "RABBITMQ_QUEUE": "ijm_events_test"},
    )
    assert endpoints.path.parent == tmp_path
    config = yaml.safe_load(text)  # without Rasa's loader: the ${...} stay as they are
    # The base file is kept as it is (action server, tracker store on DATABASE_URL).
    assert config["action_endpoint"] == {"url": "${ACTION_SERVER_URL}"}
    assert config["tracker_store"]["url"] == "${DATABASE_URL}"
    assert config["lock_store"] == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 4,
        "use_ssl": False,
        "key_prefix": "ijm",
        "socket_timeout": 3,
        "username": "ijm",
        "password": f"${{{REDIS_PASSWORD_VARIABLE}}}",
    }
    broker = config["event_broker"]
    assert broker["type"] == "pika"
    assert broker["url"] == "amqp://mq.internal:5673/ijm%2Fprod"
    assert (broker["port"], broker["username"], broker["queues"]) == (5673, "bot", ["ijm_events_test"])
    assert broker["password"] == f"${{{RABBITMQ_PASSWORD_VARIABLE}}}"
    assert broker["connection_attempts"] * broker["retry_delay_in_seconds"] <= 10  # not Rasa's 100 s


def test_each_section_only_when_its_setting_is_set(tmp_path):
    _, redis_only = generated(tmp_path, {"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert "lock_store" in yaml.safe_load(redis_only) and "event_broker" not in yaml.safe_load(redis_only)
    assert "password" not in redis_only.split("lock_store:")[1]  # no password in the URL: none in the file
    _, rabbit_only = generated(tmp_path, {"RABBITMQ_URL": "amqp://127.0.0.1"})
    config = yaml.safe_load(rabbit_only)
    assert "lock_store" not in config
    assert config["event_broker"]["url"] == "amqp://127.0.0.1:5672"  # vhost "/" (the default): no path
    assert config["event_broker"]["queues"] == ["ijm_assistant_events"]


def test_no_secret_is_written_and_the_file_is_private(tmp_path):
    endpoints, text = generated(tmp_path, {"REDIS_URL": REDIS, "RABBITMQ_URL": RABBIT})
    assert "s3cr" not in text and "p%2Fss" not in text and "p/ss" not in text
    assert stat.S_IMODE(endpoints.path.stat().st_mode) == 0o600
    # The secrets go to the Rasa process's environment; the AMQP one URL-quoted (Rasa pastes it into a URL).
    assert endpoints.env == {REDIS_PASSWORD_VARIABLE: "s3cr@t", RABBITMQ_PASSWORD_VARIABLE: "p%2Fss"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_the_same_settings_share_one_file_and_other_settings_get_their_own(tmp_path):
    first, _ = generated(tmp_path, {"REDIS_URL": REDIS})
    again, _ = generated(tmp_path, {"REDIS_URL": REDIS.replace("s3cr%40t", "other")})  # only the secret differs
    other, _ = generated(tmp_path, {"REDIS_URL": REDIS, "REDIS_KEY_PREFIX": "staging"})
    assert first.path == again.path != other.path


def test_the_rasa_server_is_given_the_generated_file_and_the_secrets(tmp_path):
    settings = Settings.from_env({"REDIS_URL": REDIS, "RABBITMQ_URL": RABBIT})
    specs = {spec.name: spec for spec in service_specs(settings, tmp_path / "model.tar.gz", "sqlite:///x.db")}
    rasa = specs["Rasa server"]
    endpoints_file = rasa.command[rasa.command.index("--endpoints") + 1]
    assert "rasa-endpoints-" in endpoints_file
    assert rasa.env[REDIS_PASSWORD_VARIABLE] == "s3cr@t"
    assert REDIS_PASSWORD_VARIABLE not in specs["web app"].env
    assert "Could not load model due to" in rasa.fatal_markers
    # issue #8: the Rasa server runs with TensorFlow's thread pools of one and the malloc settings
    assert {key: rasa.env[key] for key in RUN_TUNING_ENV} == RUN_TUNING_ENV
    assert rasa.env["TF_INTRA_OP_PARALLELISM_THREADS"] == "1"


def test_rasa_reads_the_generated_file_as_meant(tmp_path, monkeypatch):
    """Rasa's own reader and stores: environment substitution, the Redis client, the AMQP URL it builds."""
    endpoints, _ = generated(tmp_path, {"REDIS_URL": REDIS, "RABBITMQ_URL": RABBIT, "REDIS_KEY_PREFIX": "ijmtest"})
    for name, value in {**endpoints.env, "DATABASE_URL": "sqlite:///x.db", "ACTION_SERVER_URL": "http://a/w"}.items():
        monkeypatch.setenv(name, value)
    from rasa.core.brokers.pika import PikaEventBroker
    from rasa.core.lock_store import LockStore
    from rasa.core.utils import AvailableEndpoints
    from yarl import URL

    available = AvailableEndpoints.read_endpoints(str(endpoints.path))
    lock_store = LockStore.create(available.lock_store)  # connects lazily: nothing is reached here
    assert type(lock_store).__name__ == "RedisLockStore"
    assert lock_store.key_prefix == "ijmtest:lock:"
    connection = lock_store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("cache.internal", 6380, 4)
    assert (connection["username"], connection["password"], connection["socket_timeout"]) == ("ijm", "s3cr@t", 2)

    broker_config = available.event_broker
    broker = PikaEventBroker(broker_config.url, **broker_config.kwargs, event_loop=object())
    url = URL(broker._configure_url())
    assert (url.user, url.password, url.host, url.port, url.path) == ("bot", "p/ss", "mq.internal", 5673, "/ijm/prod")
    assert broker.queues == ["ijm_assistant_events"]


def test_a_base_file_with_its_own_lock_store_is_refused(tmp_path):
    base = tmp_path / "endpoints.yml"
    base.write_text("lock_store:\n  type: in_memory\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="already has a lock_store"):
        rasa_endpoints(Settings.from_env({"REDIS_URL": REDIS}), base=base, out_dir=tmp_path)


def test_urls_are_parsed_with_their_defaults():
    assert parse_redis_url("redis://localhost").port == 6379
    assert parse_redis_url("redis://localhost").db == 0
    assert parse_redis_url("rediss://:pw@h:1/2").ssl is True
    assert parse_redis_url("rediss://:pw@h:1/2").password == "pw"
    plain = parse_amqp_url("amqp://mq")
    assert (plain.port, plain.vhost, plain.username, plain.password, plain.ssl) == (5672, "/", "guest", "guest", False)
    assert parse_amqp_url("amqps://u:p@mq/").port == 5671
    assert parse_amqp_url(RABBIT).display() == "amqp://bot:***@mq.internal:5673/ijm%2Fprod"


def test_unreachable_redis_and_rabbitmq_are_both_named_quickly():
    settings = Settings.from_env(
        {
            "REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0",
            "RABBITMQ_URL": f"amqp://guest:hunter2@127.0.0.1:{free_port()}/",
        }
    )
    started = time.monotonic()
    problems = unreachable_services(settings)
    assert time.monotonic() - started < 5
    assert len(problems) == 2
    assert problems[0].startswith("cannot reach Redis at redis://127.0.0.1:") and "REDIS_URL" in problems[0]
    assert problems[1].startswith("cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:")
    assert "RABBITMQ_URL" in problems[1]
    assert "hunter2" not in "".join(problems)


def test_generated_files_unused_for_a_day_are_removed(tmp_path):
    stale, recent = tmp_path / "rasa-endpoints-aaaaaaaaaaaa.yml", tmp_path / "rasa-endpoints-bbbbbbbbbbbb.yml"
    for path in (stale, recent):
        path.write_text("{}\n", encoding="utf-8")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    endpoints, _ = generated(tmp_path, {"REDIS_URL": REDIS})
    assert endpoints.path.exists() and recent.exists() and not stale.exists()
