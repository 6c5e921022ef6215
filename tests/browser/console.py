"""The staff console as a test sees it: its forms and links found by label and role, as a staff member would."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from bot.settings import PROJECT_ROOT

IJM_BOT = str(Path(sys.executable).with_name("ijm-bot"))


@dataclass(frozen=True)
class Understood:
    """A visitor message as Rasa stored it: its events row, text, intent and confidence."""

    event_id: int
    text: str
    intent: str
    confidence: float


def say(assistant, sender: str, text: str) -> list[str]:
    """A visitor message through the REST channel; the texts of the assistant's replies."""
    reply = requests.post(assistant.rest_url, json={"sender": sender, "message": text}, timeout=60)
    assert reply.status_code == 200, reply.text
    return [message.get("text", "") for message in reply.json()]


def understood(assistant, sender: str) -> list[Understood]:
    """What Rasa stored of a conversation's visitor messages, read straight from its `events` table."""
    engine = sa.create_engine(assistant.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT id, intent_name, data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"
                ),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()
    found = []
    for row in rows:
        data = json.loads(row.data)
        intent = data["parse_data"]["intent"]
        found.append(Understood(row.id, data["text"], row.intent_name or intent["name"], intent["confidence"]))
    return found


def add_admin_with_the_cli(assistant, name: str, password: str) -> str:
    """`ijm-bot staff add NAME --role admin --password-stdin` on the assistant's database; its output."""
    done = subprocess.run(
        [IJM_BOT, "staff", "add", name, "--role", "admin", "--password-stdin"],
        input=password + "\n",
        env=assistant.env(),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Console:
    def __init__(self, page: Page, web_url: str) -> None:
        self.page = page
        self.web_url = web_url
        self.heading = page.get_by_role("heading", level=1)
        self.rows = page.locator("main table tbody tr")

    def sign_in(self, name: str, password: str) -> None:
        self.page.goto(self.web_url + "/console")
        expect(self.page).to_have_url(self.web_url + "/console/login")  # not signed in yet: the login page
        expect(self.heading).to_have_text("Sign in")
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page).to_have_url(self.web_url + "/console")
        expect(self.heading).to_have_text("Conversations")

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        expect(self.page).to_have_url(self.web_url + "/console/login")

    def go_to(self, link: str) -> None:
        self.page.get_by_role("navigation", name="Console").get_by_role("link", name=link, exact=True).click()

    def filter(self, **fields: str) -> None:
        """Fill the list's filter form (by field label) from a cleared list, and submit it."""
        self.page.get_by_role("link", name="Clear", exact=True).click()
        expect(self.heading).to_have_text("Conversations")
        labels = {"q": "Words in a visitor message", "tag": "Tag", "intent": "Intent of a visitor message"}
        for name, value in fields.items():
            self.page.get_by_label(labels[name], exact=True).fill(value)
        self.page.get_by_role("button", name="Filter", exact=True).click()
        expect(self.heading).to_have_text("Conversations")

    def row_cells(self) -> list[list[str]]:
        return [row.locator("td").all_inner_texts() for row in self.rows.all()]

    def turn(self, visitor_text: str) -> Locator:
        """The transcript's section of one visitor message (and the replies that followed it)."""
        return self.page.locator("section.turn").filter(
            has=self.page.locator("p", has=self.page.locator("strong", has_text="Visitor")).filter(
                has_text=visitor_text
            )
        )

    def correction_form(self, visitor_text: str) -> Locator:
        """The correction form right after a visitor message's section."""
        return self.turn(visitor_text).locator("xpath=following-sibling::form[1][contains(@class, 'correction')]")
