"""A signed request no listener takes (a button from an older version of the bot, a form it
no longer has, an event it does not subscribe to) is answered 200, with a word to the person
where there is one to tell; never Bolt's 404, which Slack shows as a failure (and retries)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET, BotHarness
from tests.support.signing import interactive_body, signed_slack_headers, slash_command_body
from tests.support.waiting import wait_until


def post_signed(bot: BotHarness, body: str, content_type: str | None = None) -> httpx.Response:
    headers = (
        signed_slack_headers(SIGNING_SECRET, body)
        if content_type is None
        else signed_slack_headers(SIGNING_SECRET, body, content_type=content_type)
    )
    return bot.http.post("/slack/events", content=body, headers=headers)


def interaction(kind: str, **fields: Any) -> str:
    return interactive_body(
        {
            "type": kind,
            "team": {"id": "T0STANDIN", "domain": "standin"},
            "user": {"id": "U0ALICE", "username": "alice", "team_id": "T0STANDIN"},
            "api_app_id": "A0STANDIN",
            "token": "deprecated",
            **fields,
        }
    )


def logged_about(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if name in r.getMessage()]


def test_a_click_on_a_button_this_version_no_longer_has_tells_the_clicker_what_to_do(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = bot.user("U0BOB").click({"action_id": "owner.retired_button", "value": "1"})

    assert response.status_code == 200
    [notice] = bot.slack.wait_for("chat.postEphemeral")
    assert notice.params["channel"] == "C0INCIDENT"
    assert notice.params["user"] == "U0BOB"
    assert "older version of postmortem-bot" in notice.params["text"]
    assert "`/postmortem status`" in notice.params["text"]
    [logged] = logged_about(caplog, "owner.retired_button")
    assert logged.levelname in {"INFO", "WARNING"}
    assert "block_actions" in logged.getMessage()
    assert logged.exc_info is None
    assert not logged_about(caplog, "Unhandled request")


def test_a_click_on_an_unknown_button_in_a_modal_is_acknowledged_without_a_message(
    bot: BotHarness,
) -> None:
    # No channel to answer in: the click is still acknowledged, never an error in Slack.
    body = interaction(
        "block_actions",
        container={"type": "view", "view_id": "V0OLD"},
        view={"id": "V0OLD", "type": "modal", "callback_id": "postmortem.retired"},
        actions=[{"action_id": "retired.select", "block_id": "b", "type": "button"}],
    )

    response = post_signed(bot, body)

    assert response.status_code == 200
    assert "Opened postmortem" in bot.user("U0ALICE").answer("start Still serving")
    wait_until(lambda: bool(bot.slack.calls("chat.postMessage")))
    assert not bot.slack.calls("chat.postEphemeral")


def test_submitting_a_form_this_version_no_longer_has_is_refused_inline(
    bot: BotHarness,
) -> None:
    view = {
        "id": "V0OLD",
        "type": "modal",
        "callback_id": "postmortem.retired_form",
        "private_metadata": "C0INCIDENT",
        "blocks": [{"type": "section"}, {"type": "input", "block_id": "notes"}],
        "state": {"values": {"notes": {"notes": {"type": "plain_text_input", "value": "x"}}}},
    }

    response = bot.user("U0ALICE").submit_view(view)

    assert response.status_code == 200
    assert response.json()["response_action"] == "errors"
    assert "older version of postmortem-bot" in response.json()["errors"]["notes"]
    assert bot.runtime.postmortems.get(postmortem_id=1) is None


def test_an_unknown_form_without_inputs_is_acknowledged_so_it_closes(bot: BotHarness) -> None:
    # Slack sends a form's state even when it has no inputs to hold.
    view = {
        "id": "V0OLD",
        "type": "modal",
        "callback_id": "postmortem.retired_form",
        "state": {"values": {}},
    }

    response = bot.user("U0ALICE").submit_view(view)

    assert response.status_code == 200
    assert not response.content


@pytest.mark.parametrize(
    ("kind", "fields", "named"),
    [
        (
            "view_closed",
            {"view": {"id": "V0OLD", "type": "modal", "callback_id": "postmortem.retired"}},
            "postmortem.retired",
        ),
        ("shortcut", {"callback_id": "open_postmortem", "trigger_id": "1.2.3"}, "open_postmortem"),
        (
            "message_action",
            {
                "callback_id": "postmortem_from_message",
                "trigger_id": "1.2.3",
                "channel": {"id": "C0INCIDENT"},
                "message": {"ts": "1700000000.000100", "text": "hi"},
                "response_url": "https://hooks.slack.com/app/T0STANDIN/1/abc",
            },
            "postmortem_from_message",
        ),
    ],
)
def test_closing_an_unknown_form_or_a_shortcut_we_do_not_have_is_acknowledged_and_logged_once(
    bot: BotHarness,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    fields: dict[str, Any],
    named: str,
) -> None:
    with caplog.at_level(logging.INFO):
        response = post_signed(bot, interaction(kind, **fields))

    assert response.status_code == 200
    assert not response.content
    [logged] = logged_about(caplog, named)
    assert kind in logged.getMessage()
    assert logged.exc_info is None
    assert not bot.slack.calls("chat.postEphemeral")


def test_options_asked_for_by_a_select_we_do_not_have_are_an_empty_list(
    bot: BotHarness,
) -> None:
    body = interaction(
        "block_suggestion",
        action_id="retired.external_select",
        block_id="b",
        value="ab",
        container={"type": "message", "message_ts": "1700000000.000100"},
        channel={"id": "C0INCIDENT"},
    )

    response = post_signed(bot, body)

    assert response.status_code == 200
    assert response.json() == {"options": []}


def test_an_event_we_do_not_subscribe_to_is_acknowledged_so_slack_stops_retrying(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(
        {
            "token": "deprecated",
            "team_id": "T0STANDIN",
            "api_app_id": "A0STANDIN",
            "type": "event_callback",
            "event_id": "Ev0UNWANTED",
            "event_time": 1700000000,
            "event": {
                "type": "reaction_added",
                "user": "U0ALICE",
                "reaction": "eyes",
                "item": {"type": "message", "channel": "C0INCIDENT", "ts": "1700000000.000100"},
                "event_ts": "1700000000.000200",
            },
        }
    )

    with caplog.at_level(logging.INFO):
        response = post_signed(bot, body, content_type="application/json")

    assert response.status_code == 200
    [logged] = logged_about(caplog, "reaction_added")
    assert "Ev0UNWANTED" in logged.getMessage()
    assert logged.exc_info is None


def test_a_slash_command_other_than_postmortem_is_told_which_one_to_use(
    bot: BotHarness,
) -> None:
    response = post_signed(bot, slash_command_body(command="/pm", text="start Outage"))

    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "`/postmortem help`" in response.json()["text"]
    assert bot.runtime.postmortems.get(postmortem_id=1) is None


def test_an_unknown_click_that_is_not_signed_still_gets_401_and_no_message(
    bot: BotHarness,
) -> None:
    body = interaction(
        "block_actions",
        channel={"id": "C0INCIDENT"},
        actions=[{"action_id": "owner.retired_button", "type": "button"}],
    )

    response = bot.http.post(
        "/slack/events", content=body, headers=signed_slack_headers("not-the-secret", body)
    )

    assert response.status_code == 401
    assert "Opened postmortem" in bot.user("U0ALICE").answer("start Still serving")
    wait_until(lambda: bool(bot.slack.calls("chat.postMessage")))
    assert not bot.slack.calls("chat.postEphemeral")
