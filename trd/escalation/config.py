"""Escalation settings, from the environment.

Which destinations a crisis is escalated to (read by the action server on every crisis):

    ESCALATION_WEBHOOK_URL       the care team's HTTPS endpoint; set -> every crisis gets a webhook row
    ESCALATION_WEBHOOK_SECRET    HMAC-SHA256 key for X-Escalation-Signature (at least 16 characters)
    ONCALL_SMS_NUMBER            E.164 number of the on-call phone; set -> every crisis gets an SMS row

How the delivery worker (``python -m trd.escalation.worker``) sends them:

    ESCALATION_POLL_SECONDS           how often the outbox is polled (default 1)
    ESCALATION_BACKOFF_BASE_SECONDS   first retry delay; doubles per attempt (default 2)
    ESCALATION_BACKOFF_MAX_SECONDS    the cap; retries go on forever at this interval (default 60)
    ESCALATION_LEASE_SECONDS          a claimed row is due again after this long if its worker
                                      died mid-delivery (default 60; more than the HTTP timeout)
    ESCALATION_HTTP_TIMEOUT_SECONDS   per delivery attempt, webhook or SMS API (default 10)
    ESCALATION_BATCH_SIZE             rows claimed per poll (default 10)
    TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, TWILIO_API_BASE
                                      the on-call SMS goes through the same Twilio account as the
                                      SMS channel; TWILIO_FROM_NUMBER is required for it
    SMS_SERVICE_NAME                  names the service in the on-call SMS (default TRD Navigator)
    PRIVACY_MAINTENANCE_SECONDS       how often the worker runs the privacy job (trd.privacy: the
                                      RETENTION_DAYS purge, deletions kept until delivered, old web
                                      sessions); default 3600, 0 turns it off

Secrets are never logged; ``describe()`` says what is configured without them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from trd.store.repository import DESTINATION_SMS, DESTINATION_WEBHOOK

MIN_SECRET_CHARS = 16
DEFAULT_SERVICE_NAME = "TRD Navigator"
DEFAULT_TWILIO_API_BASE = "https://api.twilio.com"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class EscalationConfigError(ValueError):
    """An escalation setting is missing or malformed (the message says which and how to fix it)."""


def destinations_from_env(env: Mapping[str, str] = os.environ) -> Tuple[str, ...]:
    """Where this deployment escalates a crisis: the destinations that are switched on.

    Only presence matters here (the action server must never drop an escalation over a
    typo): the worker checks the details at start-up and refuses to run with bad ones.
    """
    found: List[str] = []
    if env.get("ESCALATION_WEBHOOK_URL", "").strip():
        found.append(DESTINATION_WEBHOOK)
    if env.get("ONCALL_SMS_NUMBER", "").strip():
        found.append(DESTINATION_SMS)
    return tuple(found)


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise EscalationConfigError(f"{name} must be a number of seconds, not {text!r}") from None
    if not value >= minimum or value == float("inf"):
        raise EscalationConfigError(f"{name} must be at least {minimum:g} (got {text})")
    return value


@dataclass(frozen=True)
class WebhookSettings:
    url: str = field(repr=False)  # its path may carry a token: logs show the origin only
    secret: str = field(repr=False)


@dataclass(frozen=True)
class SmsSettings:
    to_number: str = field(repr=False)
    account_sid: str
    auth_token: str = field(repr=False)
    from_number: str
    api_base: str = DEFAULT_TWILIO_API_BASE


@dataclass(frozen=True)
class WorkerConfig:
    """The worker's settings; ``None`` for a destination that is not configured."""

    webhook: Optional[WebhookSettings] = None
    sms: Optional[SmsSettings] = None
    poll_seconds: float = 1.0
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 60.0
    lease_seconds: float = 60.0
    http_timeout_seconds: float = 10.0
    batch_size: int = 10
    maintenance_seconds: float = 3600.0  # the privacy job (retention, deletions, old sessions)
    service_name: str = DEFAULT_SERVICE_NAME
    warnings: Tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WorkerConfig:
        """Read and check the settings; raises EscalationConfigError naming the bad variable."""
        warnings: List[str] = []
        webhook = _webhook(env, warnings)
        sms = _sms(env)
        poll = _number(env, "ESCALATION_POLL_SECONDS", 1.0, 0.05)
        base = _number(env, "ESCALATION_BACKOFF_BASE_SECONDS", 2.0, 0.01)
        cap = _number(env, "ESCALATION_BACKOFF_MAX_SECONDS", 60.0, 0.01)
        if cap < base:
            raise EscalationConfigError(
                f"ESCALATION_BACKOFF_MAX_SECONDS ({cap:g}) must not be less than "
                f"ESCALATION_BACKOFF_BASE_SECONDS ({base:g})"
            )
        timeout = _number(env, "ESCALATION_HTTP_TIMEOUT_SECONDS", 10.0, 0.5)
        lease = _number(env, "ESCALATION_LEASE_SECONDS", 60.0, 1.0)
        if lease < timeout + 1:
            raise EscalationConfigError(
                f"ESCALATION_LEASE_SECONDS ({lease:g}) must be at least a second longer than "
                f"ESCALATION_HTTP_TIMEOUT_SECONDS ({timeout:g}), or a slow delivery would be "
                "claimed a second time while it is still running"
            )
        batch_text = env.get("ESCALATION_BATCH_SIZE", "").strip() or "10"
        if not batch_text.isdigit() or not 1 <= int(batch_text) <= 1000:
            raise EscalationConfigError(
                f"ESCALATION_BATCH_SIZE must be a whole number 1-1000, not {batch_text!r}"
            )
        return cls(
            webhook=webhook,
            sms=sms,
            poll_seconds=poll,
            backoff_base_seconds=base,
            backoff_max_seconds=cap,
            lease_seconds=lease,
            http_timeout_seconds=timeout,
            batch_size=int(batch_text),
            maintenance_seconds=_number(env, "PRIVACY_MAINTENANCE_SECONDS", 3600.0, 0.0),
            service_name=env.get("SMS_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME,
            warnings=tuple(warnings),
        )

    def describe(self) -> str:
        """What is configured, for the start-up log line (no secrets, no phone numbers)."""
        parts = []
        if self.webhook is not None:
            parts.append(f"webhook {_origin(self.webhook.url)}")
        if self.sms is not None:
            parts.append(f"SMS to the on-call number ending {self.sms.to_number[-2:]}")
        where = ", ".join(parts) if parts else "no destination (nothing will be delivered)"
        return (
            f"{where}; poll {self.poll_seconds:g}s, backoff {self.backoff_base_seconds:g}s doubling to "
            f"{self.backoff_max_seconds:g}s, lease {self.lease_seconds:g}s, "
            f"timeout {self.http_timeout_seconds:g}s"
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"


def _webhook(env: Mapping[str, str], warnings: List[str]) -> Optional[WebhookSettings]:
    url = env.get("ESCALATION_WEBHOOK_URL", "").strip()
    secret = env.get("ESCALATION_WEBHOOK_SECRET", "").strip()
    if not url:
        if secret:
            warnings.append("ESCALATION_WEBHOOK_SECRET is set but ESCALATION_WEBHOOK_URL is not: no webhook")
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise EscalationConfigError(f"ESCALATION_WEBHOOK_URL is not a valid URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise EscalationConfigError(
            "ESCALATION_WEBHOOK_URL must be an http(s) URL such as https://care.example.org/escalations"
        )
    if parts.username or parts.password:
        raise EscalationConfigError(
            "ESCALATION_WEBHOOK_URL must not carry a user name or password; requests are signed with "
            "ESCALATION_WEBHOOK_SECRET instead"
        )
    if len(secret) < MIN_SECRET_CHARS:
        raise EscalationConfigError(
            f"ESCALATION_WEBHOOK_SECRET must be set to a random secret of at least {MIN_SECRET_CHARS} "
            "characters (e.g. 64 hex digits) shared with the care team: every escalation is signed with it"
        )
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        warnings.append(
            "ESCALATION_WEBHOOK_URL uses plain http to another host: escalations carry health "
            "information and phone numbers; use https"
        )
    return WebhookSettings(url=url, secret=secret)


def _sms(env: Mapping[str, str]) -> Optional[SmsSettings]:
    to_number = "".join(env.get("ONCALL_SMS_NUMBER", "").split())
    if not to_number:
        return None
    if not _E164.match(to_number):
        raise EscalationConfigError(
            "ONCALL_SMS_NUMBER must be a phone number in E.164 form, e.g. +15551234567"
        )
    missing = [
        name
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
        if not env.get(name, "").strip()
    ]
    if missing:
        raise EscalationConfigError(
            f"ONCALL_SMS_NUMBER is set, so the on-call SMS needs {', '.join(missing)} (the Twilio account "
            "it is sent from)"
        )
    api_base = env.get("TWILIO_API_BASE", "").strip() or DEFAULT_TWILIO_API_BASE
    if urlsplit(api_base).scheme not in ("http", "https"):
        raise EscalationConfigError(f"TWILIO_API_BASE must be an http(s) URL, not {api_base!r}")
    return SmsSettings(
        to_number=to_number,
        account_sid=env["TWILIO_ACCOUNT_SID"].strip(),
        auth_token=env["TWILIO_AUTH_TOKEN"].strip(),
        from_number="".join(env["TWILIO_FROM_NUMBER"].split()),
        api_base=api_base,
    )
