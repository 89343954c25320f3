"""The start form takes only a resolution time an incident can have: not before 2000, not more
than a few minutes ahead of the bot's clock (as the incident webhook). Anything else is
refused on the field itself, and nothing is opened or posted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import BotHarness


def start_form(resolved_epoch: Any) -> dict[str, Any]:
    """The start modal as submitted: a title, and ``resolved_epoch`` as the picked time."""
    picked = {"type": "datetimepicker", "selected_date_time": resolved_epoch}
    return {
        "id": "V0FORM",
        "type": "modal",
        "callback_id": "postmortem.start",
        "private_metadata": "C0INCIDENT",
        "blocks": [{"type": "input", "block_id": "title"}],
        "state": {
            "values": {
                "title": {"title": {"type": "plain_text_input", "value": "Checkout errors"}},
                "resolved_at": {"resolved_at": picked},
            }
        },
    }


def submit(bot: BotHarness, resolved: Any) -> dict[str, Any]:
    response = bot.user("U0ALICE").submit_view(start_form(resolved))
    assert response.status_code == 200
    return response.json() if response.content not in (b"", b"null") else {}


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def nothing_opened(bot: BotHarness) -> bool:
    bot.settle()
    return bot.runtime.postmortems.get(postmortem_id=1) is None and not bot.slack.calls(
        "chat.postMessage"
    )


@pytest.mark.parametrize(
    "resolved",
    [
        31_536_000,  # 1971
        0,
        -86_400,
        epoch(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_a_resolution_time_before_2000_is_refused_on_its_field_and_nothing_is_posted(
    bot: BotHarness, resolved: int
) -> None:
    answer = submit(bot, resolved)

    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["resolved_at"]
    assert "before 2000" in answer["errors"]["resolved_at"]
    assert nothing_opened(bot)


@pytest.mark.parametrize("ahead", [timedelta(minutes=5, seconds=1), timedelta(days=365 * 50)])
def test_a_resolution_time_more_than_five_minutes_ahead_is_refused_on_its_field(
    bot: BotHarness, ahead: timedelta
) -> None:
    answer = submit(bot, epoch(bot.clock() + ahead))

    assert answer == {
        "response_action": "errors",
        "errors": {"resolved_at": "The resolution time can't be in the future."},
    }
    assert nothing_opened(bot)


@pytest.mark.parametrize("resolved", ["soon", "", "1e3", 10**20, -(10**20), True, 1.5e9])
def test_a_resolution_time_that_names_no_moment_is_refused_on_its_field(
    bot: BotHarness, resolved: Any
) -> None:
    answer = submit(bot, resolved)

    assert answer["response_action"] == "errors"
    assert answer["errors"] == {"resolved_at": "Pick the date and time the incident was resolved."}
    assert nothing_opened(bot)


@pytest.mark.parametrize(
    "resolved",
    [
        lambda now: datetime(2000, 1, 1, tzinfo=UTC),
        lambda now: now - timedelta(days=3),
        lambda now: now + timedelta(minutes=5),  # a clock running a little fast
    ],
    ids=["start-of-2000", "three-days-ago", "five-minutes-ahead"],
)
def test_a_plausible_resolution_time_opens_the_postmortem_resolved_then(
    bot: BotHarness, resolved: Any
) -> None:
    at = resolved(bot.clock())

    assert submit(bot, epoch(at)) == {}

    postmortem = bot.runtime.postmortems.get(postmortem_id=1)
    assert postmortem is not None
    assert postmortem.resolved_at == at
