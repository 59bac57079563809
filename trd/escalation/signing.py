"""Signing an escalation for the care team's webhook.

The request body is the payload as compact, key-sorted UTF-8 JSON. It is signed with
HMAC-SHA256 keyed with ``ESCALATION_WEBHOOK_SECRET`` over exactly those bytes:

    X-Escalation-Signature: sha256=<64 lowercase hex digits>
    X-Escalation-Id: <the escalation's UUID, also the payload's "id">

A receiver recomputes the HMAC over the raw body it received (before parsing it),
compares in constant time, and uses ``X-Escalation-Id`` to drop repeats: delivery is
at least once, so the same escalation can arrive more than once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Mapping, Optional

SIGNATURE_HEADER = "X-Escalation-Signature"
ID_HEADER = "X-Escalation-Id"
ATTEMPT_HEADER = "X-Escalation-Attempt"
SIGNATURE_PREFIX = "sha256="


def encode_body(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, key-sorted JSON in UTF-8."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """The ``X-Escalation-Signature`` value for ``body``."""
    if not secret:
        raise ValueError("an escalation cannot be signed without a secret")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(body: bytes, secret: str, header: Optional[str]) -> bool:
    """Whether ``header`` is the signature of ``body`` (constant-time comparison)."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode("ascii"), header.strip().encode("utf-8", "replace"))
