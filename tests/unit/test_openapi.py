"""docs/openapi.yaml tells the truth: every /api route is in it, and the real web app's answers fit its schemas."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore

from bot.console.accounts import add_staff, issue_token
from bot.settings import Settings
from bot.storage.app_db import link_clicks
from bot.web.app import create_app
from tests.e2e.harness import running_web_app
from tests.unit.supporters_db import migrated_database

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text())
PASSWORD = "a long enough password"
CONVERSATION = "spec-visit"


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable` becomes a null type, refs point at definitions."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/definitions/")
    return converted


DEFINITIONS = as_json_schema(SPEC["components"]["schemas"])


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    answer = SPEC["paths"][path][method]["responses"][str(status)]
    if "$ref" in answer:
        answer = SPEC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = copy.deepcopy(answer["content"]["application/json"]["schema"])
    return {**as_json_schema(schema), "definitions": DEFINITIONS}


def check(answer: requests.Response, path: str, method: str = "get") -> dict[str, Any]:
    body = answer.json()
    jsonschema.validate(body, response_schema(path, method, answer.status_code))
    return body


def test_every_api_route_of_the_web_app_is_described(tmp_path):
    app = create_app(Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/ijm.db"}))
    routes = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if path.startswith("api/") or path.startswith("/api/"):
            path = path.replace("<conversation_id:str>", "{conversation_id}")
            routes |= {(path, method.lower()) for method in route.methods if method not in ("HEAD", "OPTIONS")}
    described = {(path, method) for path, item in SPEC["paths"].items() for method in item if method != "parameters"}
    assert routes and routes == described


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("openapi")
    with migrated_database(request.param, workdir) as url:
        yield from _serve(workdir, url)


def _serve(workdir, url):
    engine = sa.create_engine(url)
    SQLTrackerStore.SQLEvent.__table__.create(engine, checkfirst=True)
    now = datetime.now(timezone.utc).timestamp()
    rows = [
        ("user", {"text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 0.98}, "entities": []}}),
        ("bot", {"text": "Hello! Donate here: /go/donate?c=1"}),
        ("action", {"name": "action_safety_help"}),
    ]
    with engine.begin() as connection:
        for offset, (kind, data) in enumerate(rows):
            connection.execute(
                SQLTrackerStore.SQLEvent.__table__.insert().values(
                    sender_id=CONVERSATION, type_name=kind, timestamp=now + offset, data=json.dumps(data)
                )
            )
        connection.execute(
            link_clicks.insert().values(
                link="donate", conversation_id=CONVERSATION, clicked_at=datetime.now(timezone.utc)
            )
        )
    add_staff(engine, "amira", "admin", PASSWORD)
    add_staff(engine, "vic", "viewer", PASSWORD)
    admin, viewer = issue_token(engine, "amira"), issue_token(engine, "vic")
    with running_web_app(workdir, url) as web_url:
        yield web_url, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {viewer}"}
    engine.dispose()


def test_the_answers_fit_the_schemas(web):
    url, admin, viewer = web
    assert check(requests.get(f"{url}/api/me", headers=viewer, timeout=10), "/api/me")["role"] == "viewer"
    assert requests.get(f"{url}/api/me", timeout=10).status_code == 401
    check(requests.get(f"{url}/api/me", timeout=10), "/api/me")
    listing = check(requests.get(f"{url}/api/conversations", headers=admin, timeout=10), "/api/conversations")
    assert [c["id"] for c in listing["conversations"]] == [CONVERSATION]
    bad = requests.get(f"{url}/api/conversations?below=2", headers=admin, timeout=10)
    assert bad.status_code == 400
    check(bad, "/api/conversations")
    one = f"{url}/api/conversations/{CONVERSATION}"
    transcript = check(requests.get(one, headers=admin, timeout=10), "/api/conversations/{conversation_id}")
    assert transcript["turns"][0]["activity"][0]["kind"] == "link_click"
    missing = requests.get(f"{url}/api/conversations/nobody", headers=admin, timeout=10)
    assert missing.status_code == 404
    check(missing, "/api/conversations/{conversation_id}")
    stats = check(requests.get(f"{url}/api/stats", headers=viewer, timeout=10), "/api/stats")
    assert stats["charts"]
    check(requests.get(f"{url}/api/stats?from=nonsense", headers=viewer, timeout=10), "/api/stats")
    refused = requests.get(f"{url}/api/export?format=csv", headers=viewer, timeout=10)
    assert refused.status_code == 403
    check(refused, "/api/export")
    export = requests.get(f"{url}/api/export?format=jsonl", headers=admin, timeout=10)
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    feedback = requests.post(
        f"{url}/api/feedback",
        json={"conversation_id": CONVERSATION, "rating": "up", "message_text": "Hello!"},
        timeout=10,
    )
    assert feedback.status_code == 201
    check(feedback, "/api/feedback", "post")
    check(requests.post(f"{url}/api/feedback", json={"rating": "sideways"}, timeout=10), "/api/feedback", "post")
    unknown = {"conversation_id": "nobody", "rating": "up", "message_text": "Hello!"}
    refused_feedback = requests.post(f"{url}/api/feedback", json=unknown, timeout=10)
    assert refused_feedback.status_code == 404
    check(refused_feedback, "/api/feedback", "post")
    check(requests.delete(one, headers=viewer, timeout=10), "/api/conversations/{conversation_id}", "delete")
    erased = check(requests.delete(one, headers=admin, timeout=10), "/api/conversations/{conversation_id}", "delete")
    assert erased["erased"] == CONVERSATION


def test_a_schema_check_can_fail():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "role": "owner"}, response_schema("/api/me", "get", 200))
