"""PagerDuty's v3 webhook signature scheme, also used for the generic incident webhook; and
the bearer token of the tools that cannot sign (Opsgenie, Grafana OnCall).

``X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>[,v1=<hex>…]``. During a
secret rotation PagerDuty sends one ``v1=`` entry per active secret; any match passes.
The secret is the raw UTF-8 string (not base64-decoded), as in go-pagerduty's
``webhookv3`` test vector.

``Authorization: Bearer <secret>`` proves only that the sender knows a secret: unlike a
signature it says nothing about the body, so it is only as safe as the HTTPS it travels on.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SCHEME = "v1="
BEARER = "bearer"


def split_secrets(raw: str | None) -> tuple[str, ...]:
    """``"s1,s2"`` → ``("s1", "s2")``: several secrets may be active while rotating."""
    if raw is None:
        return ()
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def sign(secret: str, body: bytes) -> str:
    """The ``v1=…`` signature of ``body`` under ``secret``."""
    return SCHEME + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """Whether any ``v1=`` entry of ``header`` is the signature of ``body`` under any secret."""
    if not header or not secrets:
        return False
    offered = [
        entry.strip()[len(SCHEME) :].lower()
        for entry in header.split(",")
        if entry.strip().startswith(SCHEME)
    ]
    expected = [sign(secret, body)[len(SCHEME) :] for secret in secrets]
    matched = False
    # Compare every pair (no early exit), each in constant time.
    for candidate in offered:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode("ascii", "replace"), digest.encode())
    return matched


def bearer_token_matches(header: str | None, secrets: Sequence[str]) -> bool:
    """Whether ``header`` (an ``Authorization`` value) is ``Bearer <one of secrets>``.

    The scheme is case-insensitive (RFC 9110); the token is compared with every secret, each
    in constant time, with no early exit. Both sides are hashed first, so the comparison
    takes the same time whatever the token's length.
    """
    if not header or not secrets:
        return False
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != BEARER or not token.strip():
        return False
    offered = hashlib.sha256(token.strip().encode("utf-8", "replace")).digest()
    matched = False
    for secret in secrets:
        expected = hashlib.sha256(secret.encode("utf-8")).digest()
        matched |= hmac.compare_digest(offered, expected)
    return matched
