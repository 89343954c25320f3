"""A person in Slack, as the bot sees them: signed slash commands, clicks and form submissions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.signing import (
    block_actions_body,
    signed_slack_headers,
    slash_command_body,
    view_submission_body,
)


class SlackUser:
    def __init__(
        self,
        http: httpx.Client,
        signing_secret: str,
        user_id: str,
        *,
        channel_id: str = "C0INCIDENT",
    ) -> None:
        self.http = http
        self.secret = signing_secret
        self.user_id = user_id
        self.channel_id = channel_id

    def _post(self, body: str) -> httpx.Response:
        return self.http.post(
            "/slack/events", content=body, headers=signed_slack_headers(self.secret, body)
        )

    def command(self, text: str, *, channel_id: str | None = None) -> httpx.Response:
        body = slash_command_body(
            text=text,
            channel_id=channel_id or self.channel_id,
            user_id=self.user_id,
            trigger_id=f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:20]}",
        )
        return self._post(body)

    def answer(self, text: str, *, channel_id: str | None = None) -> str:
        """The ephemeral text the bot answered a slash command with."""
        response = self.command(text, channel_id=channel_id)
        assert response.status_code == 200, response.text
        return str(response.json()["text"]) if response.content else ""

    def click(
        self,
        action: dict[str, Any],
        *,
        channel_id: str | None = None,
        message_ts: str = "1700000000.000100",
    ) -> httpx.Response:
        payload = block_actions_payload(
            self.user_id, action, channel_id or self.channel_id, message_ts
        )
        return self._post(block_actions_body(payload))

    def submit_view(self, view: dict[str, Any]) -> httpx.Response:
        payload = {
            "type": "view_submission",
            "team": {"id": "T0STANDIN", "domain": "standin"},
            "user": {"id": self.user_id, "username": self.user_id.lower(), "team_id": "T0STANDIN"},
            "api_app_id": "A0STANDIN",
            "token": "deprecated",
            "trigger_id": "12466734323.1395872398.abc",
            "view": view,
            "response_urls": [],
        }
        return self._post(view_submission_body(payload))


def block_actions_payload(
    user_id: str, action: dict[str, Any], channel_id: str, message_ts: str = "1700000000.000100"
) -> dict[str, Any]:
    """What Slack sends when ``user_id`` clicks ``action`` on the message at ``message_ts``."""
    return {
        "type": "block_actions",
        "team": {"id": "T0STANDIN", "domain": "standin"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0STANDIN"},
        "api_app_id": "A0STANDIN",
        "token": "deprecated",
        "container": {"type": "message", "message_ts": message_ts, "is_ephemeral": False},
        "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
        "channel": {"id": channel_id, "name": "incident"},
        "message": {"ts": message_ts, "text": "", "blocks": []},
        "response_url": "https://hooks.slack.com/actions/T0STANDIN/1/abc",
        "actions": [{"action_ts": "1700000000.000200", **action}],
    }


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every interactive element in a message's blocks, in order."""
    return [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


def block_text(blocks: Any) -> str:
    """All the text a person would read in ``blocks``, one piece per line."""
    if isinstance(blocks, list):
        return "\n".join(filter(None, (block_text(b) for b in blocks)))
    if isinstance(blocks, dict):
        own = blocks.get("text")
        parts = [own if isinstance(own, str) else block_text(own)]
        for key in ("fields", "elements", "placeholder"):
            if key in blocks:
                parts.append(block_text(blocks[key]))
        return "\n".join(filter(None, parts))
    return ""
