"""Sending one outbox row: a JSON POST to a webhook, or a plain-text e-mail to a team over SMTP.

Each attempt ends in an Outcome: sent, retry (the destination may accept it later) or failed (it refused
the record for good; staff must look, then `ijm-bot outbox --retry ID`).
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import requests

from bot.outbox.queue import LEADS_WEBHOOK, NEWSLETTER_WEBHOOK, TEAM_EMAIL
from bot.supporters.delivery_config import DeliveryConfig, SmtpConfig

SENT = "sent"
RETRY = "retry"
FAILED = "failed"
USER_AGENT = "ijm-assistant-outbox/1"
# 4xx answers that mean "later", not "never".
_RETRYABLE_4XX = (408, 429)

_SUBJECTS = {"fundraiser": "Fundraiser enquiry", "media": "Media enquiry", "message": "Message"}


@dataclass(frozen=True)
class Outcome:
    status: str  # SENT, RETRY or FAILED
    error: str | None = None


class Deliverer:
    """Delivers rows with one HTTP session (connection reuse) for the life of a worker."""

    def __init__(self, config: DeliveryConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self.session.close()

    def deliver(self, destination: str, payload_json: str, key: str) -> Outcome:
        """One attempt at one outbox row (its destination, stored JSON payload and idempotency key)."""
        if destination == TEAM_EMAIL:
            if self.config.smtp is None:
                return Outcome(RETRY, "SMTP is not configured any more (SMTP_HOST is empty)")
            return send_email(self.config.smtp, json.loads(payload_json), key, self.config.timeout_seconds)
        url = {NEWSLETTER_WEBHOOK: self.config.newsletter_webhook_url, LEADS_WEBHOOK: self.config.leads_webhook_url}
        if destination not in url:
            return Outcome(FAILED, f"unknown destination {destination!r}")
        if not url[destination]:
            return Outcome(RETRY, f"{destination} is not configured any more")
        return self.post(url[destination], payload_json, key)

    def post(self, url: str, payload_json: str, key: str) -> Outcome:
        """POST the stored JSON as it is, so every retry sends the same bytes under the same Idempotency-Key."""
        try:
            answer = self.session.post(
                url,
                data=payload_json.encode("utf-8"),
                headers={"Content-Type": "application/json", "Idempotency-Key": key},
                timeout=self.config.timeout_seconds,
                allow_redirects=False,  # a redirected POST becomes a GET: the URL needs fixing, not following
            )
        except requests.Timeout:
            return Outcome(RETRY, f"no answer within {self.config.timeout_seconds:g} s")
        except requests.RequestException as error:
            return Outcome(RETRY, f"could not connect: {type(error).__name__}")
        code = answer.status_code
        if 200 <= code < 300:
            return Outcome(SENT)
        detail = f"HTTP {code}: {answer.text.strip()[:300]}".rstrip(": ")
        if 400 <= code < 500 and code not in _RETRYABLE_4XX:
            return Outcome(FAILED, detail)
        return Outcome(RETRY, detail)


def _one_line(text: str, limit: int = 80) -> str:
    """Safe for a header: no line breaks (header injection), not too long."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def build_email(payload: dict[str, Any], key: str, sender: str) -> EmailMessage:
    """The plain-text message to the team. Its Message-ID carries the idempotency key, so a copy can be spotted."""
    name = payload.get("name") or ""
    title = _SUBJECTS.get(str(payload.get("kind")), "Enquiry")
    message = EmailMessage()
    message["Subject"] = _one_line(f"{title} from the website assistant: {name or payload['email']}")
    message["From"] = sender
    message["To"] = payload["to"]
    if str(payload["email"]).isascii():
        message["Reply-To"] = payload["email"]
    message["Message-ID"] = f"<{key}@{sender.rpartition('@')[2] or 'ijm-assistant'}>"
    created = datetime.fromisoformat(payload["created_at"])
    message["Date"] = format_datetime(created)
    lines = [
        f"{title} left with the website assistant. Reply to this e-mail to answer the sender.",
        "",
        f"Name: {name or '(not given)'}",
        f"E-mail: {payload['email']}",
    ]
    lines += [f"{_label(field)}: {value}" for field, value in payload.get("details", {}).items()]
    conversation = payload.get("conversation_id") or "(unknown)"
    channel = f" (channel: {payload['channel']})" if payload.get("channel") else ""
    lines += [
        "",
        f"Received: {created.strftime('%Y-%m-%d %H:%M UTC')}",
        f"Conversation: {conversation}{channel}",
        f"Enquiry number: {payload.get('record_id')}",
        f"Reference: {key}",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def _smtp_outcome(error: smtplib.SMTPException) -> Outcome:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(f"{code} {reply.decode(errors='replace')}" for code, reply in error.recipients.values())
        return Outcome(FAILED if codes and min(codes) >= 500 else RETRY, f"recipient refused: {detail}")
    if isinstance(error, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return Outcome(FAILED if error.smtp_code >= 500 else RETRY, f"SMTP {error.smtp_code} {reply}")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Outcome(RETRY, f"SMTP login refused ({error.smtp_code}): check SMTP_USER and SMTP_PASSWORD")
    # Disconnections, greetings refused, STARTTLS unsupported…: the server or its settings may be fixed.
    return Outcome(RETRY, f"SMTP error: {type(error).__name__} {getattr(error, 'smtp_code', '')}".strip())


def send_email(smtp: SmtpConfig, payload: dict[str, Any], key: str, timeout: float) -> Outcome:
    message = build_email(payload, key, smtp.sender)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as connection:
            if smtp.starttls:
                connection.starttls(context=ssl.create_default_context())
            if smtp.user:
                connection.login(smtp.user, smtp.password or "")
            connection.send_message(message, from_addr=smtp.sender, to_addrs=[payload["to"]])
    except smtplib.SMTPException as error:
        return _smtp_outcome(error)
    except OSError as error:  # refused, unreachable, timed out, TLS failure
        return Outcome(RETRY, f"could not reach the SMTP server {smtp.host}:{smtp.port}: {type(error).__name__}")
    return Outcome(SENT)
