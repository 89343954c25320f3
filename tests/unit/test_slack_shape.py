"""A signed Slack payload of a shape Slack never sends is named before any listener reads it."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.slack.shape import MAX_SLACK_ID_LENGTH, shape_problem
from tests.support.signing import slash_command_fields
from tests.support.slack_user import block_actions_payload
from tests.support.vendor import vendor_bytes, vendor_json


def command(**fields: Any) -> dict[str, Any]:
    """A slash command as this bot gets it, with ``fields`` changed (None: left out)."""
    sent: dict[str, Any] = {**slash_command_fields(text="status"), **fields}
    return {name: value for name, value in sent.items() if value is not None}


def click(**action: Any) -> dict[str, Any]:
    """A click on "I'll own it" in a channel, with the action's fields changed."""
    return block_actions_payload(
        "U0ALICE", {"action_id": "owner.claim_self", "value": "1", **action}, "C0INCIDENT"
    )


def submission(**view: Any) -> dict[str, Any]:
    """Slack's recorded view_submission, with its view's fields changed (None: left out)."""
    payload: dict[str, Any] = copy.deepcopy(vendor_json("slack_view_submission.json"))
    payload["view"].update(view)
    payload["view"] = {name: value for name, value in payload["view"].items() if value is not None}
    return payload


@pytest.mark.parametrize(
    "name",
    [
        "slack_block_actions_message.json",
        "slack_block_actions_home_tab.json",
        "slack_view_submission.json",
        "slack_url_verification.json",
        "slack_event_callback_app_mention.json",
        "slack_event_callback_reaction_added.json",
    ],
)
def test_what_slack_sends_passes(name: str) -> None:
    assert shape_problem(vendor_json(name)) is None


def test_a_slash_command_as_slack_sends_it_passes() -> None:
    wire = dict(parse_qsl(vendor_bytes("slack_slash_command_wire.txt").decode()))

    assert shape_problem(wire) is None


@pytest.mark.parametrize(
    "payload",
    [
        command(),
        command(channel_id="D0DAN"),  # in a direct message
        command(channel_id="G0PRIVATE", user_id="W0GRID"),  # older private channel, Grid user
        command(text=None),
        command(text=""),
        click(),
        click(value=None),
        {**click(), "channel": None},
        click(action_id="owner.pick_anyone", selected_user="U0BOB"),
        {"type": "view_closed", "user": {"id": "U0ALICE"}, "view": {"id": "V1"}},
    ],
    ids=[
        "command",
        "command in a DM",
        "G channel, W user",
        "command without text",
        "command with empty text",
        "click",
        "button without a value",
        "click with a null channel",
        "user picked",
        "form closed",
    ],
)
def test_commands_and_interactions_slack_could_send_pass(payload: dict[str, Any]) -> None:
    assert shape_problem(payload) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "event_callback", "event": {"type": "app_mention"}},
        {"type": "url_verification", "challenge": "abc"},
        {"ssl_check": "1", "token": "x"},
        {"type": "app_rate_limited", "team_id": "T1"},
        # Not types of any payload: Bolt finds no listener for them.
        {"type": "nonsense"},
        {"type": ["block_actions"]},
        {"type": {"block_actions": 1}},
    ],
)
def test_events_and_unknown_types_are_left_to_bolt(payload: dict[str, Any]) -> None:
    assert shape_problem(payload) is None


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (command(user_id=None), "user_id must be a Slack user id"),
        (command(channel_id=None), "channel_id must be a Slack channel or direct message id"),
        (command(trigger_id=""), "trigger_id must be non-empty text"),
        (command(trigger_id="1" * 101), f"trigger_id must be at most {MAX_SLACK_ID_LENGTH}"),
        (command(user_id=""), "user_id must be a Slack user id"),
        (command(user_id="U" * 70), "user_id must be a Slack user id"),
        (command(user_id="U0NEW\x00"), "user_id must be a Slack user id"),
        (command(user_id="\U0001f642"), "user_id must be a Slack user id"),
        (command(user_id="u0alice"), "user_id must be a Slack user id"),
        (command(user_id=7), "user_id must be a Slack user id"),
        (command(channel_id=""), "channel_id must be"),
        (command(channel_id="C" * 70), "channel_id must be"),
        (command(channel_id="C0NEW\x00"), "channel_id must be"),
        (command(channel_id="\U0001f642"), "channel_id must be"),
        (command(channel_id="#incident"), "channel_id must be"),
        (command(text=["status"]), "text must be text"),
        (command(command=""), "command must be non-empty text"),
    ],
)
def test_a_command_without_the_ids_slack_always_sends_is_named(
    payload: dict[str, Any], named: str
) -> None:
    assert (shape_problem(payload) or "").startswith(named)


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({**click(), "actions": "x"}, "actions must be a non-empty array"),
        ({**click(), "actions": []}, "actions must be a non-empty array"),
        ({**click(), "actions": None}, "actions must be a non-empty array"),
        ({**click(), "actions": [1]}, "actions[0] must be an object"),
        ({**click(), "actions": [{}]}, "actions[0].action_id must be non-empty text"),
        (click(action_id=1), "actions[0].action_id must be non-empty text"),
        (click(action_id={"a": 1}), "actions[0].action_id must be non-empty text"),
        (click(value=1), "actions[0].value must be text"),
        ({**click(), "user": None}, "user must be an object"),
        ({**click(), "user": "U0ALICE"}, "user must be an object"),
        ({k: v for k, v in click().items() if k != "user"}, "user must be an object"),
        ({**click(), "user": {"name": "alice"}}, "user.id must be a Slack user id"),
        ({**click(), "user": {"id": "U" * 70}}, "user.id must be a Slack user id"),
        ({**click(), "channel": "C0INCIDENT"}, "channel must be an object"),
        ({**click(), "channel": {}}, "channel.id must be a Slack channel"),
        ({**click(), "channel": {"id": "C1"}}, "channel.id must be a Slack channel"),
    ],
)
def test_a_click_slack_would_never_send_is_named(payload: dict[str, Any], named: str) -> None:
    assert (shape_problem(payload) or "").startswith(named)


@pytest.mark.parametrize("chosen", [123, True, ["U0BOB"], {"id": "U0BOB"}])
def test_a_user_picked_that_is_not_text_is_named(chosen: object) -> None:
    picked = click(action_id="owner.pick_anyone", selected_user=chosen)

    assert shape_problem(picked) == "actions[0].selected_user must be text"


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (submission(id=None), "view.id must be non-empty text"),
        (submission(id=5), "view.id must be non-empty text"),
        (submission(id="V" * 101), f"view.id must be at most {MAX_SLACK_ID_LENGTH}"),
        (submission(callback_id=None), "view.callback_id must be text"),
        (submission(callback_id=1), "view.callback_id must be text"),
        (submission(private_metadata=["C0INCIDENT"]), "view.private_metadata must be text"),
        (submission(state=None), "view.state must be an object"),
        (submission(state={}), "view.state.values must be an object"),
        (submission(state={"values": []}), "view.state.values must be an object"),
        (submission(state={"values": {"title": "x"}}), "view.state.values must hold an object"),
        ({**submission(), "view": None}, "view must be an object"),
        ({**submission(), "view": "x"}, "view must be an object"),
        ({**submission(), "user": None}, "user must be an object"),
    ],
)
def test_a_form_submission_slack_would_never_send_is_named(
    payload: dict[str, Any], named: str
) -> None:
    assert (shape_problem(payload) or "").startswith(named)


def test_a_form_with_no_metadata_passes() -> None:
    assert shape_problem(submission(private_metadata=None)) is None


def test_a_command_is_checked_as_one_whatever_type_it_also_claims() -> None:
    # Bolt hands any payload with a "command" to the command listeners.
    payload = {**click(), "command": "/postmortem", "text": "status"}

    assert (shape_problem(payload) or "").startswith("user_id must be a Slack user id")


def test_a_command_without_a_trigger_id_is_of_a_shape_the_listeners_take() -> None:
    # Slack always sends one; only a form needs it, and without one it says it cannot open.
    assert shape_problem(command(trigger_id=None)) is None
