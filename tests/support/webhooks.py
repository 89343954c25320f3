"""What the incident-tool webhook tests share: the answer and owner prompt of an opened
postmortem, and what was stored."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from bot.persistence.tables import PostmortemRow
from tests.conftest import BotHarness
from tests.support.slack_user import block_text, buttons


def opened_with_prompt(
    bot: BotHarness, answer: httpx.Response, *, channel: str
) -> tuple[str, list[Any]]:
    """``answer`` opened postmortem #1 in ``channel`` and its owner prompt was posted there:
    the prompt's text and its buttons' values."""
    assert answer.status_code == 201
    assert answer.json() == {
        "ok": True,
        "outcome": "opened",
        "postmortem_id": 1,
        "channel": channel,
        "state": "awaiting_owner",
    }
    prompt = bot.slack.wait_for("chat.postMessage")[0].params
    assert prompt["channel"] == channel
    return block_text(prompt["blocks"]), [b.get("value") for b in buttons(prompt["blocks"])]


def stored(bot: BotHarness) -> list[Any]:
    """Every postmortem row, oldest first."""
    with bot.runtime.engine.connect() as connection:
        return list(connection.execute(select(PostmortemRow).order_by(PostmortemRow.id)))
