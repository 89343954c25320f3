"""Signed submissions and clicks carrying values Slack's own forms and buttons never send:
each is refused inline or answered ephemerally, nothing is stored, and nothing fails.

Through the real HTTP app and the Slack stand-in, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import BotHarness
from tests.e2e.test_details import details_form, filled
from tests.e2e.test_document import document_form, told
from tests.e2e.test_start_form import form
from tests.support.lifecycle import errors, opened_form, owned_by_bob, submitted
from tests.support.waiting import wait_until


def with_value(view: dict[str, Any], block: str, **element: Any) -> dict[str, Any]:
    """``view`` with one input's element replaced by ``element``."""
    values = dict(view["state"]["values"])
    values[block] = {block: element}
    return {**view, "state": {"values": values}}


@pytest.mark.parametrize(
    ("block", "element", "says"),
    [
        ("title", {"value": "x" * 5000}, "Keep the title to 300 characters."),
        ("title", {"value": {"nested": "object"}}, "Give the incident a short title."),
        ("severity", {"selected_option": "SEV1"}, "Choose a severity from the list."),
        ("severity", {"selected_option": {"value": "S" * 500}}, "Choose a severity"),
        ("severity", {"selected_option": {"value": {"a": 1}}}, "Choose a severity"),
        ("severity", {"selected_option": {"value": "SEV9"}}, "Choose a severity"),
        ("led_response", {"selected_users": "U0BOB"}, "Choose people from the list"),
        ("led_response", {"selected_users": [123]}, "Choose people from the list"),
        ("led_response", {"selected_users": ["<@U0BOB>"]}, "Choose people from the list"),
        ("primary_on_call", {"selected_users": ["U0BOB"] * 26}, "at most 25"),
        ("resolved_at", {"selected_date_time": 10**20}, "Pick the date and time"),
        ("resolved_at", {"selected_date_time": "abc"}, "Pick the date and time"),
    ],
)
def test_a_start_form_value_slack_would_not_send_is_refused_inline_and_nothing_is_opened(
    bot: BotHarness, block: str, element: dict[str, Any], says: str
) -> None:
    response = bot.user("U0ALICE").submit_view(with_value(form(), block, **element))

    refused = errors(response)
    assert list(refused) == [block]
    assert says in refused[block]
    assert bot.runtime.postmortems.get(postmortem_id=1) is None


@pytest.mark.parametrize(
    ("block", "element", "says"),
    [
        ("meeting_time", {"selected_date_time": 10**20}, "Pick a date and time."),
        ("meeting_time", {"selected_date_time": -(10**12)}, "Pick a date and time."),
        ("meeting_time", {"selected_date_time": {"a": 1}}, "Pick a date and time."),
        ("meeting_participants", {"selected_users": "U0BOB"}, "Choose the participants"),
        ("meeting_participants", {"selected_users": [1, 2]}, "Choose the participants"),
    ],
)
def test_a_schedule_form_value_slack_would_not_send_is_refused_inline(
    bot: BotHarness, block: str, element: dict[str, Any], says: str
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    view = submitted(opened_form(bot), at=bot.clock() + timedelta(days=1))

    refused = errors(bot.user("U0BOB").submit_view(with_value(view, block, **element)))

    assert list(refused) == [block]
    assert says in refused[block]
    assert "Meeting scheduled" not in bot.user("U0BOB").answer("status")


@pytest.mark.parametrize("metadata", ["C0INCIDENT|²", "C0INCIDENT|99999999999999999999"])
def test_a_schedule_form_naming_no_postmortem_it_can_be_schedules_the_channels_one(
    bot: BotHarness, metadata: str
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    view = submitted(opened_form(bot), at=bot.clock() + timedelta(days=1), why=None)
    view["state"]["values"]["meeting_justification"]["meeting_justification"]["value"] = 7

    response = bot.user("U0BOB").submit_view({**view, "private_metadata": metadata})

    assert errors(response) == {}
    assert "Meeting scheduled" in bot.user("U0BOB").answer("status")


@pytest.mark.parametrize("postmortem_id", [2**31, 2**70])
def test_forms_naming_a_postmortem_number_no_database_holds_are_refused_inline(
    bot: BotHarness, postmortem_id: int
) -> None:
    owned_by_bob(bot)
    document = document_form(bot, "U0BOB")
    metadata = json.loads(document["private_metadata"])
    details = filled(details_form(bot, "U0BOB"), title="New title")
    details_metadata = json.loads(details["private_metadata"])

    document_answer = bot.user("U0BOB").submit_view(
        {
            **document,
            "id": "V0DOC",
            "state": {"values": {}},
            "private_metadata": json.dumps({**metadata, "id": postmortem_id}),
        }
    )
    details_answer = bot.user("U0BOB").submit_view(
        {
            **details,
            "private_metadata": json.dumps({**details_metadata, "postmortem": postmortem_id}),
        }
    )

    assert list(errors(document_answer)) == ["document.summary"]
    assert f"There is no postmortem #{postmortem_id}" in errors(details_answer)["title"]


@pytest.mark.parametrize(
    "action",
    [
        {"action_id": "owner.pick_candidate.0", "value": "1|<@U0CAROL>"},
        {"action_id": "owner.pick_candidate.0", "value": "1|x y"},
        {"action_id": "owner.pick_anyone", "block_id": "owner:1", "selected_user": "🙂"},
    ],
)
def test_an_owner_choice_naming_nobody_slack_knows_is_answered_and_nobody_owns_it(
    bot: BotHarness, action: dict[str, Any]
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.slack.wait_for("chat.postMessage")

    assert bot.user("U0BOB").click({"type": "button", **action}).status_code == 200
    wait_until(lambda: told(bot, "U0BOB") != [])  # answered after the ack

    assert "didn't name anyone I can make the owner" in told(bot, "U0BOB")[0]
    opened = bot.runtime.postmortems.get(postmortem_id=1)
    assert opened is not None
    assert opened.owner_id is None


@pytest.mark.parametrize("text", ["start Checkout errors", "start"])
def test_a_postmortem_is_not_started_in_a_direct_message(bot: BotHarness, text: str) -> None:
    answer = bot.user("U0ALICE", channel_id="D0ALICE").answer(text)

    assert answer.startswith("A postmortem lives in its incident's channel")
    assert bot.slack.calls("views.open") == []
    assert bot.runtime.postmortems.get(postmortem_id=1) is None


@pytest.mark.parametrize("metadata", ["D0ALICE", '{"x":1}', "C0" + "X" * 60])
def test_a_start_form_naming_no_channel_a_postmortem_can_live_in_opens_nothing(
    bot: BotHarness, metadata: str
) -> None:
    response = bot.user("U0ALICE").submit_view({**form(), "private_metadata": metadata})

    assert errors(response)["title"].startswith("A postmortem lives in its incident's channel")
    assert bot.runtime.postmortems.get(postmortem_id=1) is None
