"""Bad input gets a clear answer (401/400/usage), never a 500, and stores nothing."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.domain.document import Section
from tests.conftest import SIGNING_SECRET, BotFactory, BotHarness
from tests.support.signing import (
    block_actions_body,
    signed_slack_headers,
    slash_command_body,
    slash_command_fields,
    view_submission_body,
)
from tests.support.slack_user import block_actions_payload
from tests.support.waiting import wait_until
from tests.support.webhooks import stored


def nothing_stored(bot: BotHarness) -> bool:
    return not bot.runtime.postmortems.status(channel_id="C0INCIDENT").open_postmortems


def test_an_unsigned_request_gets_401_and_stores_nothing(bot: BotHarness) -> None:
    body = slash_command_body(text="start Outage")

    response = bot.http.post(
        "/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 401
    assert nothing_stored(bot)


def test_a_request_signed_with_another_secret_gets_401(bot: BotHarness) -> None:
    body = slash_command_body(text="start Outage")

    response = bot.http.post(
        "/slack/events", content=body, headers=signed_slack_headers("not-the-secret", body)
    )

    assert response.status_code == 401
    assert nothing_stored(bot)


def test_a_replayed_request_older_than_five_minutes_gets_401(bot: BotHarness) -> None:
    body = slash_command_body(text="start Outage")
    stale = int(time.time()) - 5 * 60 - 30

    response = bot.http.post(
        "/slack/events", content=body, headers=signed_slack_headers(SIGNING_SECRET, body, stale)
    )

    assert response.status_code == 401
    assert nothing_stored(bot)


def test_a_body_altered_after_signing_gets_401(bot: BotHarness) -> None:
    body = slash_command_body(text="start Outage")
    headers = signed_slack_headers(SIGNING_SECRET, body)

    response = bot.http.post(
        "/slack/events", content=body.replace("Outage", "Other"), headers=headers
    )

    assert response.status_code == 401


def test_a_non_numeric_timestamp_gets_401_not_500(bot: BotHarness) -> None:
    body = slash_command_body(text="start Outage")
    headers = signed_slack_headers(SIGNING_SECRET, body) | {"X-Slack-Request-Timestamp": "soon"}

    assert bot.http.post("/slack/events", content=body, headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        # Too large a number for the verifier's float arithmetic (OverflowError).
        (b"9" * 400, b"v0=00"),
        # A character hmac.compare_digest refuses to compare (TypeError).
        (None, "v0=\u00e9".encode("latin-1")),
        # Digits, but not ASCII ones (int() would read them).
        ("\u0661\u0667\u0660\u0660".encode(), b"v0=00"),
    ],
    ids=["400-digit timestamp", "non-ASCII signature", "non-ASCII digits"],
)
def test_signature_headers_of_a_shape_slack_never_sends_get_401_not_500(
    bot: BotHarness, timestamp: bytes | None, signature: bytes
) -> None:
    body = slash_command_body(text="start Outage")
    headers = [
        (b"Content-Type", b"application/x-www-form-urlencoded"),
        (b"X-Slack-Request-Timestamp", timestamp or str(int(time.time())).encode()),
        (b"X-Slack-Signature", signature),
    ]

    response = bot.http.post("/slack/events", content=body, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid or stale Slack signature"
    assert nothing_stored(bot)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ("", "application/x-www-form-urlencoded"),
        ("garbage", "application/x-www-form-urlencoded"),
        ('{"hello": "world"}', "application/json"),
        ("payload=%7B%22a%22%3A1%7D", "application/x-www-form-urlencoded"),
    ],
)
def test_a_signed_payload_that_does_not_parse_gets_400_and_the_bot_keeps_serving(
    bot: BotHarness, body: str, content_type: str
) -> None:
    headers = signed_slack_headers(SIGNING_SECRET, body, content_type=content_type)

    response = bot.http.post("/slack/events", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert "Opened postmortem" in bot.user("U0ALICE").answer("start Still serving")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frobnicate", "I don't know `frobnicate`"),
        ("owner", "needs one person"),
        ("owner bob", "needs one person"),
        ("help", "/postmortem start"),
        ("", "/postmortem start"),
    ],
)
def test_unknown_subcommands_and_bad_arguments_get_a_usage_message(
    bot: BotHarness, text: str, expected: str
) -> None:
    response = bot.user("U0ALICE").command(text)

    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert expected in response.json()["text"]
    assert "*Usage*" in response.json()["text"]


def test_a_title_that_is_too_long_is_refused_with_the_limit(bot: BotHarness) -> None:
    answer = bot.user("U0ALICE").answer("start " + "x" * 301)

    assert "The title is 301 characters; keep it to 300." in answer
    assert nothing_stored(bot)


def test_a_title_as_long_as_a_tools_is_taken_from_a_person_too(bot: BotHarness) -> None:
    # Held to 150 by `start` and to 300 by `details` and the webhooks, it was refused or taken
    # depending on where it was typed.
    answer = bot.user("U0ALICE").answer("start " + "x" * 300)

    assert answer.startswith("Opened postmortem #1.")


def test_handing_over_with_no_postmortem_in_the_channel_says_how_to_start_one(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").command("owner <@U0BOB|bob>")

    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert notice["user"] == "U0ALICE"
    assert "no open postmortem in this channel" in notice["text"]


def test_someone_who_neither_owns_nor_assigned_it_cannot_hand_over(bot: BotHarness) -> None:
    alice = bot.user("U0ALICE")
    alice.answer("start Outage")
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": "1"})
    bot.settle()

    bot.user("U0MALLORY").command("owner <@U0MALLORY|mallory>")
    refusal = bot.slack.wait_for("chat.postEphemeral", 1)[0].params
    bot.user("U0BOB").command("owner <@U0CAROL|carol>")
    handed = bot.slack.wait_for("chat.postEphemeral", 2)[1].params

    assert refusal["user"] == "U0MALLORY"
    assert "Only the current owner <@U0BOB>" in refusal["text"]
    assert handed["user"] == "U0BOB"
    assert "<@U0CAROL> now owns postmortem #1" in handed["text"]
    status = bot.user("U0ALICE").answer("status")
    assert "Owner: <@U0CAROL>" in status


def test_a_button_with_a_malformed_value_gets_an_explanation(bot: BotHarness) -> None:
    response = bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": "drop table"})

    assert response.status_code == 200
    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert "didn't say which postmortem" in notice["text"]


def test_a_signed_click_with_no_actions_gets_400_not_500(bot: BotHarness) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0BOB"},
        "team": {"id": "T0STANDIN"},
        "channel": {"id": "C0INCIDENT"},
        "actions": [],
    }
    body = block_actions_body(payload)

    response = bot.http.post(
        "/slack/events", content=body, headers=signed_slack_headers(SIGNING_SECRET, body)
    )

    assert response.status_code == 400
    assert response.json()["ok"] is False


def test_a_start_form_that_lost_its_channel_is_refused_inline(bot: BotHarness) -> None:
    view = {
        "id": "V0LOST",
        "type": "modal",
        "callback_id": "postmortem.start",
        "private_metadata": "",
        "state": {"values": {"title": {"title": {"type": "plain_text_input", "value": "Outage"}}}},
    }

    response = bot.user("U0ALICE").submit_view(view)

    assert response.json()["response_action"] == "errors"
    assert "lost track of its channel" in response.json()["errors"]["title"]
    assert bot.runtime.postmortems.get(postmortem_id=1) is None


def test_a_failing_form_submission_keeps_the_form_open_with_an_apology(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(type(bot.runtime.postmortems), "open_postmortem", broken)
    view = {
        "id": "V0BROKEN",
        "type": "modal",
        "callback_id": "postmortem.start",
        "private_metadata": "C0INCIDENT",
        "blocks": [{"type": "input", "block_id": "title"}],
        "state": {"values": {"title": {"title": {"type": "plain_text_input", "value": "Outage"}}}},
    }

    response = bot.user("U0ALICE").submit_view(view)

    assert response.status_code == 200
    assert response.json()["response_action"] == "errors"
    assert "something went wrong on my side" in response.json()["errors"]["title"]


BODY_ENDPOINTS = ["/slack/events", "/webhooks/incident", "/webhooks/pagerduty"]


@pytest.fixture
def webhooks_bot(make_bot: BotFactory) -> BotHarness:
    return make_bot(incident_webhook_secret="s3cret", pagerduty_webhook_secret="s3cret")


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_a_body_declared_too_large_is_refused_before_it_is_read(
    webhooks_bot: BotHarness, path: str
) -> None:
    # Unsigned and 2 GB long by its header: answered at once, not after waiting for (and
    # holding) two gigabytes. The few bytes sent are all there ever is.
    url = webhooks_bot.http.base_url
    with socket.create_connection((url.host, url.port), timeout=5) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {url.host}\r\n"
            "Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n{".encode()
        )
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]

    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_a_chunked_body_over_the_limit_is_refused_and_the_bot_keeps_serving(
    webhooks_bot: BotHarness, path: str
) -> None:
    def five_megabytes() -> Iterator[bytes]:
        for _ in range(80):
            yield b"x" * 65536

    response = webhooks_bot.http.post(path, content=five_megabytes())

    assert response.status_code == 413
    assert response.json()["error"] == "request body too large"
    assert webhooks_bot.http.get("/healthz").status_code == 200


def test_a_nul_character_in_a_command_is_dropped_not_stored_or_failed(bot: BotHarness) -> None:
    # PostgreSQL refuses NUL in text (the start answered "something went wrong"); SQLite took
    # it and echoed it into the channel.
    started = bot.user("U0ALICE").answer("start Disk \x00full")
    status = bot.user("U0ALICE").answer("status")

    assert "Sorry" not in started
    assert "*#1 Disk full*" in status
    assert "\x00" not in status


def test_an_unpaired_surrogate_in_a_form_is_replaced_not_failed(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.user("U0ALICE").answer("start Disk full")
    bot.user("U0ALICE").answer("document")
    view = dict(bot.slack.wait_for("views.open")[-1].params["view"])
    values = {
        "document.summary": {
            "document.summary": {"type": "plain_text_input", "value": "Disk \ud83d full"}
        }
    }

    with caplog.at_level("WARNING"):
        saved = bot.user("U0ALICE").submit_view(
            {**view, "id": "V0DOC", "state": {"values": values}}
        )
    bot.settle()

    assert saved.status_code == 200
    assert "errors" not in (saved.json() if saved.content else {})
    document = bot.runtime.documents.for_form(channel_id="C0INCIDENT")[1]
    assert document is not None
    assert document.text(Section.SUMMARY) == "Disk \ufffd full"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_view_submission_slack_would_never_send_is_a_400_logged_in_one_line(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # No view "type": Bolt itself raises (KeyError) before any listener runs.
    view = {"id": "V1", "callback_id": "postmortem.document", "state": {"values": {}}}
    payload = {"type": "view_submission", "user": {"id": "U0BOB"}, "view": view}
    body = view_submission_body(payload)

    with caplog.at_level("WARNING"):
        response = bot.http.post(
            "/slack/events", content=body, headers=signed_slack_headers(SIGNING_SECRET, body)
        )

    assert response.status_code == 400
    [logged] = [r for r in caplog.records if "could not be handled" in r.getMessage()]
    assert logged.levelname == "WARNING"
    assert logged.exc_info is None


def test_a_nul_character_in_an_action_item_recorded_after_the_ack_is_dropped(
    bot: BotHarness,
) -> None:
    # Recorded by a lazy listener, which reads its own copy of the request.
    bot.user("U0ALICE").answer("start Disk full")
    bot.user("U0BOB").command("action <@U0DAN> 2026-12-04 Fix\x00it")

    wait_until(lambda: bool(bot.slack.calls("chat.postEphemeral")))
    bot.settle()

    [answer] = [c.params["text"] for c in bot.slack.calls("chat.postEphemeral")]
    assert "Added action item 1 to postmortem #1: Fixit" in answer


# -- signed payloads of a shape Slack never sends ---------------------------------------------


def without(fields: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if key != name}


def start_command(**fields: str) -> dict[str, str]:
    return slash_command_fields(text="start Outage", **fields)


def post_signed(bot: BotHarness, body: str) -> httpx.Response:
    return bot.http.post(
        "/slack/events", content=body, headers=signed_slack_headers(SIGNING_SECRET, body)
    )


def refused_in_one_line(
    response: httpx.Response, caplog: pytest.LogCaptureFixture, named: str
) -> bool:
    """``response`` is the 400 naming ``named``, logged once, as a WARNING with no traceback."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error.startswith(f"the Slack payload is missing fields it needs: {named} "), error
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.exc_info) for r in logged] == [("WARNING", None)]
    assert named in logged[0].getMessage()
    return True


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param(without(start_command(), "user_id"), "user_id", id="no user_id"),
        pytest.param(without(start_command(), "channel_id"), "channel_id", id="no channel_id"),
        pytest.param(start_command(user_id=""), "user_id", id="empty user_id"),
        pytest.param(start_command(user_id="U" * 70), "user_id", id="70-character user_id"),
        pytest.param(start_command(user_id="U0NEW\x00"), "user_id", id="NUL in user_id"),
        pytest.param(start_command(user_id="\U0001f642"), "user_id", id="emoji user_id"),
        pytest.param(start_command(channel_id=""), "channel_id", id="empty channel_id"),
        pytest.param(start_command(channel_id="C" * 70), "channel_id", id="70-char channel_id"),
        pytest.param(start_command(channel_id="C0NEW\x00"), "channel_id", id="NUL in channel_id"),
        pytest.param(start_command(channel_id="\U0001f642"), "channel_id", id="emoji channel_id"),
        # Part of the key a start is stored under, which it would not fit.
        pytest.param(start_command(trigger_id="1" * 300), "trigger_id", id="long trigger_id"),
    ],
)
def test_a_command_without_the_ids_slack_always_sends_is_a_400_and_stores_nothing(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, fields: dict[str, str], named: str
) -> None:
    with caplog.at_level(logging.WARNING):
        response = post_signed(bot, urlencode(fields))

    assert refused_in_one_line(response, caplog, named)
    assert stored(bot) == []
    assert bot.slack.calls("chat.postEphemeral") == []


def test_a_command_without_a_trigger_id_is_answered_as_usual(bot: BotHarness) -> None:
    # Slack always sends one, but only a form needs it: a hand-made request still works.
    started = post_signed(bot, urlencode(without(start_command(), "trigger_id")))

    assert started.status_code == 200
    assert started.json()["text"].startswith("Opened postmortem #1.")
    assert len(stored(bot)) == 1


def claim(**action: Any) -> dict[str, Any]:
    return {"action_id": "owner.claim_self", "type": "button", "value": "1", **action}


def pick(selected_user: object) -> dict[str, Any]:
    return {
        "action_id": "owner.pick_anyone",
        "type": "users_select",
        "block_id": "owner.pick_anyone:1",
        "selected_user": selected_user,
    }


def clicked(action: dict[str, Any], **payload: Any) -> dict[str, Any]:
    """``action`` clicked by U0BOB in C0INCIDENT, the payload's fields changed (None: left
    out)."""
    sent = {**block_actions_payload("U0BOB", action, "C0INCIDENT"), **payload}
    return {name: value for name, value in sent.items() if value is not None}


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        pytest.param(clicked(claim(), actions="x"), "actions", id="actions text"),
        pytest.param(clicked(claim(), actions=[1]), "actions[0]", id="actions [1]"),
        pytest.param(clicked(claim(), actions=[{}]), "actions[0].action_id", id="actions [{}]"),
        pytest.param(clicked(claim(action_id=1)), "actions[0].action_id", id="action_id 1"),
        pytest.param(clicked(claim(), user="U0BOB"), "user", id="user text"),
        pytest.param(clicked(claim(), user=None), "user", id="no user"),
        pytest.param(clicked(claim(), user={"id": "U" * 70}), "user.id", id="70-char user.id"),
        pytest.param(clicked(pick(123)), "actions[0].selected_user", id="picked 123"),
        pytest.param(clicked(pick(True)), "actions[0].selected_user", id="picked true"),
        pytest.param(clicked(pick(["U0BOB"])), "actions[0].selected_user", id="picked list"),
        pytest.param(clicked(pick({"id": "U0BOB"})), "actions[0].selected_user", id="picked dict"),
    ],
)
def test_a_click_slack_would_never_send_is_a_400_and_changes_nothing(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, payload: dict[str, Any], named: str
) -> None:
    bot.user("U0ALICE").answer("start Outage")
    bot.settle()

    with caplog.at_level(logging.WARNING):
        response = post_signed(bot, block_actions_body(payload))

    assert refused_in_one_line(response, caplog, named)
    bot.settle()
    [postmortem] = stored(bot)
    assert postmortem.owner_id is None
    assert bot.slack.calls("chat.postEphemeral") == []


START_FORM = {
    "id": "V0START",
    "type": "modal",
    "callback_id": "postmortem.start",
    "private_metadata": "C0INCIDENT",
    "state": {"values": {"title": {"title": {"type": "plain_text_input", "value": "Outage"}}}},
}


def submitted(view: dict[str, Any], **payload: Any) -> dict[str, Any]:
    """``view`` submitted by U0ALICE, the payload's fields changed (None: left out)."""
    sent = {"type": "view_submission", "user": {"id": "U0ALICE"}, "view": view, **payload}
    return {name: value for name, value in sent.items() if value is not None}


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        pytest.param(submitted(without(START_FORM, "id")), "view.id", id="no view.id"),
        pytest.param(submitted({**START_FORM, "state": None}), "view.state", id="state null"),
        pytest.param(
            submitted({**START_FORM, "state": {"values": []}}),
            "view.state.values",
            id="values a list",
        ),
        pytest.param(submitted(START_FORM, user=None), "user", id="no user"),
    ],
)
def test_a_form_submission_slack_would_never_send_is_a_400_and_stores_nothing(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, payload: dict[str, Any], named: str
) -> None:
    with caplog.at_level(logging.WARNING):
        response = post_signed(bot, view_submission_body(payload))

    assert refused_in_one_line(response, caplog, named)
    bot.settle()
    assert stored(bot) == []
    assert bot.slack.calls("chat.postEphemeral") == []


def test_a_command_from_a_direct_message_still_gets_its_answer(bot: BotHarness) -> None:
    answer = bot.user("U0DAN", channel_id="D0DAN").answer("status")

    assert answer.startswith("A direct message has no postmortem of its own.")
