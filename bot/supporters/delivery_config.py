"""Where supporters' records are delivered, as configured when they are recorded and sent."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.settings import Settings


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "assistant@ijm.ca"


@dataclass(frozen=True)
class DeliveryConfig:
    """Destinations (None = not configured) and how patiently the outbox worker delivers to them."""

    newsletter_webhook_url: str | None
    leads_webhook_url: str | None
    smtp: SmtpConfig | None
    timeout_seconds: float = 10.0
    max_backoff_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        smtp = None
        if settings.smtp_host:
            smtp = SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                starttls=settings.smtp_starttls,
                user=settings.smtp_user,
                password=settings.smtp_password,
                sender=settings.smtp_from,
            )
        return cls(
            newsletter_webhook_url=settings.newsletter_webhook_url,
            leads_webhook_url=settings.leads_webhook_url,
            smtp=smtp,
            timeout_seconds=float(settings.delivery_timeout),
            max_backoff_seconds=float(settings.outbox_max_backoff),
        )
