"""The widget as a test sees it: its controls found by role and label, as a visitor (or a screen reader) would."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

ANSWER_TIMEOUT = 60_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
TITLE = "Ask IJM Canada"  # data-title of the demo page's embed

# The element that has the keyboard focus, looking inside shadow roots: "tag|accessible text".
FOCUSED = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el) return "";
  return el.tagName.toLowerCase() + "|" + (el.getAttribute("aria-label") || el.textContent || "").trim();
}"""


class Widget:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name="Chat with us")
        self.panel = page.get_by_role("dialog", name=TITLE)
        self.input = page.get_by_role("textbox", name="Your message")
        self.send_button = page.get_by_role("button", name="Send", exact=True)
        self.notice = page.locator("#ijm-chat-widget .notice")

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def ask(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def bot_message(self, containing: str):
        return self.page.locator("#ijm-chat-widget .msg.bot .bubble").filter(has_text=containing)

    def user_message(self, text: str):
        return self.page.locator("#ijm-chat-widget .msg.user .bubble").filter(has_text=text)

    def expect_answer(self, containing: str) -> None:
        expect(self.bot_message(containing).last).to_be_visible(timeout=ANSWER_TIMEOUT)

    def expect_all_answered(self) -> None:
        """Every message sent and acknowledged (which Rasa does once it has sent all the replies)."""
        expect(self.page.locator("#ijm-chat-widget .msg.user .status")).to_have_count(0, timeout=ANSWER_TIMEOUT)

    def topic(self, title: str):
        return self.panel.get_by_role("button", name=title, exact=True).first

    def session_id(self) -> str:
        return json.loads(self.page.evaluate("() => sessionStorage.getItem('ijm-chat:session')"))

    def focused(self) -> str:
        return self.page.evaluate(FOCUSED)

    def tab_to(self, wanted: str, key: str = "Tab", limit: int = 60) -> None:
        """Press Tab (or Shift+Tab) until the focused control is `wanted` ("tag|name")."""
        for _ in range(limit):
            if self.focused() == wanted:
                return
            self.page.keyboard.press(key)
        raise AssertionError(f"{wanted!r} never got the focus with {key}; last: {self.focused()!r}")
