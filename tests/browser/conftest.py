"""Browser tests of the website widget: Playwright driving Debian's Chromium against the real assistant."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.widget import DESKTOP
from tests.e2e.harness import Assistant

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPORTS = Path(__file__).resolve().parents[2] / "reports"


def launch_chromium(playwright):
    """Debian's Chromium, never a browser Playwright downloads (`make test` installs it with apt)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get install chromium` as root (make test does it)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    """The real assistant (`ijm-bot run` on free ports, SQLite in a temporary folder)."""
    workdir = tmp_path_factory.mktemp("browser-assistant")
    running = Assistant(workdir=workdir, database_url=f"sqlite:///{workdir}/ijm.db")
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


class Visit:
    """One browser tab on the demo page, recording dialogs and every request the page makes."""

    def __init__(self, context, web_url: str, rasa_url: str) -> None:
        self.context = context
        self.page = context.new_page()
        self.web_url = web_url
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("websocket", lambda socket: self.requests.append(socket.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.origins = {_origin(web_url), _origin(rasa_url), _origin(rasa_url).replace("http", "ws", 1)}

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def third_party_requests(self) -> list[str]:
        return [url for url in self.requests if _origin(url) not in self.origins]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def visit_factory(browser, request):
    """New tabs, each in a fresh browser profile; on the session's assistant unless given other servers."""
    contexts = []

    def make(viewport: dict[str, int] | None = None, web_url: str | None = None, rasa_url: str | None = None) -> Visit:
        if web_url is None or rasa_url is None:
            assistant = request.getfixturevalue("assistant")
            web_url, rasa_url = assistant.web_url, assistant.rasa_url
        context = browser.new_context(viewport=viewport or DESKTOP)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return Visit(context, web_url, rasa_url)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def visit(visit_factory) -> Visit:
    return visit_factory()


@pytest.fixture(scope="session")
def reports() -> Path:
    REPORTS.mkdir(exist_ok=True)
    return REPORTS
