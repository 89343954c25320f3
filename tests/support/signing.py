"""Build requests signed the way Slack and PagerDuty sign them.

Slack: ``X-Slack-Signature: v0=HMAC_SHA256(secret, "v0:{timestamp}:{raw body}")``.
PagerDuty v3: ``X-PagerDuty-Signature: v1=HMAC_SHA256(secret, raw body)``, the secret used
as raw UTF-8 bytes (not base64-decoded).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def hmac_sha256_hex(secret: str | bytes, body: str | bytes) -> str:
    return hmac.new(_bytes(secret), _bytes(body), hashlib.sha256).hexdigest()


def slack_signature(secret: str | bytes, timestamp: int | str, body: str | bytes) -> str:
    basestring = b"v0:" + str(timestamp).encode("ascii") + b":" + _bytes(body)
    return "v0=" + hmac_sha256_hex(secret, basestring)


def signed_slack_headers(
    secret: str | bytes,
    body: str | bytes,
    timestamp: int | str | None = None,
    content_type: str = FORM,
) -> dict[str, str]:
    """Headers Slack would send with ``body``; ``timestamp`` defaults to now."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(secret, ts, body),
    }


def slash_command_body(command: str = "/postmortem", text: str = "", **fields: str) -> str:
    """A slash command form body (fields as ``slash_command_fields`` takes them)."""
    return urlencode(slash_command_fields(command, text, **fields))


def slash_command_fields(
    command: str = "/postmortem",
    text: str = "",
    *,
    channel_id: str = "C0INCIDENT",
    channel_name: str = "incident-42",
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
    team_id: str = "T0STANDIN",
    team_domain: str = "standin",
    response_url: str = "https://hooks.slack.com/commands/T0STANDIN/1234/5678",
    api_app_id: str = "A0STANDIN",
) -> dict[str, str]:
    """A slash command's fields in the order Slack sends them: a form body over HTTP, a
    JSON payload over Socket Mode."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def interactive_body(payload: dict[str, Any]) -> str:
    """Interactivity requests are a form with one field, ``payload``, holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


def block_actions_body(payload: dict[str, Any]) -> str:
    return interactive_body({"type": "block_actions", **payload})


def view_submission_body(payload: dict[str, Any]) -> str:
    return interactive_body({"type": "view_submission", **payload})


def pagerduty_signature(secret: str | bytes, body: str | bytes) -> str:
    return "v1=" + hmac_sha256_hex(secret, body)
