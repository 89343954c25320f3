"""``POST /webhooks/opsgenie``: Opsgenie's Webhook integration, replayed from real payloads.

The payloads are the samples in ``shared/vendor-payloads`` (Opsgenie's documented Create
sample and zulip's captured Close/Acknowledge/AssignOwnership/Create deliveries). They date
from 2015 and 2017, so the tests that open a postmortem replay a *copy* whose times are moved
to just before the test's FakeClock (``recent_close``): a postmortem resolved years ago
would be overdue before it opened. Everything else in the copy is as Opsgenie sent it,
unless a test says what it adds.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import INCIDENT_SECRET
from tests.support.signing import pagerduty_signature
from tests.support.slack_user import block_text, buttons
from tests.support.vendor import vendor_json
from tests.support.webhooks import opened_with_prompt, stored

PATH = "/webhooks/opsgenie"
CLOSE = "opsgenie_close_zulip_fixture.json"
NOT_CLOSING = ("opsgenie_create_doc.json", "opsgenie_create_zulip_fixture.json")
ACKNOWLEDGE = "opsgenie_acknowledge_zulip_fixture.json"  # by fili@ifountain.com
ASSIGN_OWNERSHIP = "opsgenie_assignownership_zulip_fixture.json"  # to user2@ifountain.com
ALERT_ID = "052652ac-5d1c-464a-812a-7dd18bbfba8c"  # the samples' alert
LED_RESPONSE = "was initially assigned to the alert and led the response"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def nanoseconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def recent_close(bot: BotHarness, *, ago: timedelta = timedelta(minutes=10)) -> dict[str, Any]:
    """A copy of the captured Close, closed ``ago`` before the test's clock.

    ``alert.updatedAt`` (nanoseconds, as Opsgenie sends it) is set to that moment and
    ``alert.createdAt`` (milliseconds) moved by the same amount; nothing else changes.
    """
    payload: dict[str, Any] = copy.deepcopy(vendor_json(CLOSE))
    alert = payload["alert"]
    updated_at = nanoseconds(bot.clock() - ago)
    shift = updated_at - alert["updatedAt"]
    alert["updatedAt"] = updated_at
    alert["createdAt"] += shift // 1_000_000
    return payload


def post(
    bot: BotHarness,
    payload: dict[str, Any] | bytes,
    *,
    path: str = PATH,
    token: str | None = INCIDENT_SECRET,
    channel: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST like the tool does: JSON, the configured ``Authorization: Bearer`` header, and
    ``?channel=`` when the URL was configured with one."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = {"Content-Type": "application/json"}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    params = {"channel": channel} if channel is not None else None
    return bot.http.post(path, content=body, headers=sent, params=params)


def nothing_posted(bot: BotHarness) -> bool:
    bot.settle()
    return bot.slack.calls("chat.postMessage") == []


# -- a Close opens the postmortem --------------------------------------------------------------


def test_a_closed_alert_opens_a_postmortem_with_its_owner_as_the_candidate(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0ALICE", "alice@example.com")
    close = recent_close(bot)
    # The captured Close has no owner; an owned alert's Close carries alert.owner, as the
    # AssignOwnership sample does (an Opsgenie username is the user's email).
    close["alert"]["owner"] = "alice@example.com"

    answer = post(bot, close, channel="C0CHECKOUT")

    text, values = opened_with_prompt(bot, answer, channel="C0CHECKOUT")
    assert "Postmortem: test alert" in text
    assert f"<@U0ALICE> — {LED_RESPONSE}" in text
    assert values[:1] == ["1|U0ALICE"]
    [row] = stored(bot)
    assert (row.incident_key, row.source, row.title) == (
        f"opsgenie:{ALERT_ID}",
        "opsgenie",
        "test alert",
    )
    assert row.resolved_at == bot.clock() - timedelta(minutes=10)
    assert row.severity is None  # the sample has no priority


def test_an_owner_slack_does_not_know_is_still_listed_by_name(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    close = recent_close(bot)
    close["alert"]["owner"] = "user2@ifountain.com"  # the AssignOwnership sample's owner

    assert post(bot, close, channel="C0CHECKOUT").status_code == 201

    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert f"user2@ifountain.com _(no matching Slack user found)_ — {LED_RESPONSE}" in text


def test_without_an_owner_no_one_is_suggested_for_leading_the_response(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    assert post(bot, recent_close(bot), channel="C0CHECKOUT").status_code == 201

    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "Postmortem: test alert" in text
    assert LED_RESPONSE not in text


def test_the_alerts_priority_is_the_severity(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    p1 = recent_close(bot)
    p1["alert"].update(alertId="alert-p1", priority="P1")
    # Opsgenie's newer payloads send the priority as a bare number (see the captured Create).
    three = recent_close(bot)
    three["alert"].update(alertId="alert-3", priority=3)

    assert post(bot, p1, channel="C0CHECKOUT").status_code == 201
    assert post(bot, three, channel="C0CHECKOUT").status_code == 201

    assert [(r.incident_key, r.severity) for r in stored(bot)] == [
        ("opsgenie:alert-p1", "P1"),
        ("opsgenie:alert-3", "P3"),
    ]
    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "severity *P1*" in text


def test_a_close_time_in_milliseconds_is_read_as_such(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    close = recent_close(bot)
    close["alert"]["updatedAt"] = nanoseconds(bot.clock() - timedelta(hours=1)) // 1_000_000

    assert post(bot, close).status_code == 201

    [row] = stored(bot)
    assert row.resolved_at == bot.clock() - timedelta(hours=1)


def test_a_close_time_slightly_ahead_of_the_bots_clock_is_taken_as_now(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    answer = post(bot, recent_close(bot, ago=-timedelta(hours=2)))

    assert answer.status_code == 201
    [row] = stored(bot)
    assert row.resolved_at == bot.clock()


# -- who took the alert on ---------------------------------------------------------------------


def test_who_acknowledged_and_who_was_given_the_alert_are_suggested_when_it_closes(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0FILI", "fili@ifountain.com", real_name="Fili F")
    bot.slack.add_user("U0USER2", "user2@ifountain.com", real_name="User Two")

    acknowledged = post(bot, vendor_json(ACKNOWLEDGE))
    assigned = post(bot, vendor_json(ASSIGN_OWNERSHIP))
    answer = post(bot, recent_close(bot), channel="C0CHECKOUT")

    assert acknowledged.json() == {"ok": True, "outcome": "recorded"}
    assert assigned.json() == {"ok": True, "outcome": "recorded"}
    text, values = opened_with_prompt(bot, answer, channel="C0CHECKOUT")
    assert f"<@U0FILI> — {LED_RESPONSE}" in text
    assert f"<@U0USER2> — {LED_RESPONSE}" in text
    assert values[:2] == ["1|U0FILI", "1|U0USER2"]
    prompt = bot.slack.calls("chat.postMessage")[0].params
    labels = [b.get("text", {}).get("text") for b in buttons(prompt["blocks"])][:2]
    assert labels == ["Assign Fili F", "Assign User Two"]  # Slack's names, not the emails


def test_a_bot_or_a_deactivated_account_that_acknowledged_is_not_suggested(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0FILI", "fili@ifountain.com", deleted=True)
    bot.slack.add_user("U0USER2", "user2@ifountain.com", is_bot=True)
    post(bot, vendor_json(ACKNOWLEDGE))
    post(bot, vendor_json(ASSIGN_OWNERSHIP))

    answer = post(bot, recent_close(bot), channel="C0CHECKOUT")

    text, values = opened_with_prompt(bot, answer, channel="C0CHECKOUT")
    assert "1|U0FILI" not in values
    assert "1|U0USER2" not in values
    # Not by name either, as someone Slack did not find: Slack said who they are.
    assert "ifountain" not in text
    assert "no matching Slack user" not in text
    assert "I don't know yet who led the response" in text


def test_an_acknowledge_after_the_close_adds_its_person_to_the_prompt_in_place(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0FILI", "fili@ifountain.com")
    post(bot, recent_close(bot), channel="C0CHECKOUT")
    bot.slack.wait_for("chat.postMessage")

    late = post(bot, vendor_json(ACKNOWLEDGE))
    bot.settle()

    assert late.json() == {
        "ok": True,
        "outcome": "recorded",
        "postmortem_id": 1,
        "channel": "C0CHECKOUT",
        "state": "awaiting_owner",
    }
    [refreshed] = bot.slack.wait_for("chat.update")
    assert f"<@U0FILI> — {LED_RESPONSE}" in block_text(refreshed.params["blocks"])


def test_an_acknowledge_arriving_while_the_close_looks_people_up_is_not_lost(
    incident_bot: BotFactory,
) -> None:
    # The Close has read the alert's evidence and is looking its owner up in Slack (slow)
    # when the Acknowledge comes: the Acknowledge finds no postmortem yet, and the Close
    # opened one without it. The Close looks again once its postmortem exists.
    bot = incident_bot()
    bot.slack.add_user("U0ALICE", "alice@example.com")
    bot.slack.add_user("U0FILI", "fili@ifountain.com")
    bot.slack.delay("users.lookupByEmail", 0.5)
    close = recent_close(bot)
    close["alert"]["owner"] = "alice@example.com"

    with ThreadPoolExecutor(1) as pool:
        closing = pool.submit(post, bot, close, channel="C0CHECKOUT")
        bot.slack.wait_for("users.lookupByEmail")
        acknowledged = post(bot, vendor_json(ACKNOWLEDGE))
        opened = closing.result()
    bot.settle()

    assert acknowledged.json() == {"ok": True, "outcome": "recorded"}
    assert opened.status_code == 201
    [row] = stored(bot)
    assert {c["slack_user_id"] for c in row.candidates} == {"U0ALICE", "U0FILI"}


def test_an_acknowledge_once_someone_owns_it_changes_nothing(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    post(bot, recent_close(bot), channel="C0CHECKOUT")
    bot.slack.wait_for("chat.postMessage")
    bot.user("U0BOB", channel_id="C0CHECKOUT").click(
        {"action_id": "owner.claim_self", "value": "1"}
    )
    bot.slack.wait_for("chat.update")
    updates = len(bot.slack.calls("chat.update"))

    late = post(bot, vendor_json(ACKNOWLEDGE))
    bot.settle()

    assert late.json()["outcome"] == "recorded"
    assert len(bot.slack.calls("chat.update")) == updates
    [row] = stored(bot)
    assert row.owner_id == "U0BOB"


# -- what does not open one --------------------------------------------------------------------


def test_every_other_action_is_ignored_and_stores_nothing(incident_bot: BotFactory) -> None:
    bot = incident_bot()

    answers = {name: post(bot, vendor_json(name)) for name in NOT_CLOSING}
    # Ignored as soon as the action is read, whatever else the body holds.
    odd = post(bot, {"action": "AddNote", "alert": None})

    for name, answer in answers.items():
        assert answer.status_code == 200, name
        body = answer.json()
        assert (body["ok"], body["outcome"]) == (True, "ignored"), name
        assert vendor_json(name)["action"] in body["reason"]
    assert odd.status_code == 200
    assert odd.json()["outcome"] == "ignored"
    assert stored(bot) == []
    assert nothing_posted(bot)


def test_closing_the_same_alert_again_opens_no_second_postmortem(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    first = post(bot, recent_close(bot, ago=timedelta(minutes=30)), channel="C0CHECKOUT")
    later = recent_close(bot, ago=timedelta(minutes=5))
    later["alert"]["message"] = "test alert (closed again)"

    again = post(bot, later, channel="C0CHECKOUT")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {
        "ok": True,
        "outcome": "already_open",
        "postmortem_id": 1,
        "channel": "C0CHECKOUT",
        "state": "awaiting_owner",
    }
    [row] = stored(bot)
    assert row.title == "test alert"
    bot.settle()
    assert len(bot.slack.calls("chat.postMessage")) == 1


# -- authentication ----------------------------------------------------------------------------


def test_a_wrong_or_missing_bearer_token_is_refused_and_nothing_is_stored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    close = recent_close(bot)
    body = json.dumps(close).encode()

    wrong = post(bot, close, token="not-the-secret")
    missing = post(bot, close, token=None)
    basic = post(bot, close, token=None, headers={"Authorization": f"Basic {INCIDENT_SECRET}"})
    bare = post(bot, close, token=None, headers={"Authorization": INCIDENT_SECRET})
    # The generic endpoint's HMAC signature is no substitute for the token here.
    signed = post(
        bot,
        body,
        token=None,
        headers={"X-Signature": pagerduty_signature(INCIDENT_SECRET, body)},
    )

    assert [a.status_code for a in (wrong, missing, basic, bare, signed)] == [401] * 5
    assert "Authorization: Bearer" in wrong.json()["error"]
    assert stored(bot) == []
    assert nothing_posted(bot)


def test_the_token_scheme_is_case_insensitive(incident_bot: BotFactory) -> None:
    bot = incident_bot()

    answer = post(
        bot, recent_close(bot), token=None, headers={"Authorization": f"bearer {INCIDENT_SECRET}"}
    )

    assert answer.status_code == 201


def test_any_of_the_secrets_being_rotated_is_accepted(incident_bot: BotFactory) -> None:
    bot = incident_bot(incident_webhook_secret="new-secret, old-secret")
    old, new = recent_close(bot), recent_close(bot)
    new["alert"]["alertId"] = "another-alert"

    answers = [post(bot, old, token="old-secret"), post(bot, new, token="new-secret")]

    assert [a.status_code for a in answers] == [201, 201]
    assert post(bot, old, token="new-secret,old-secret").status_code == 401
    assert len(stored(bot)) == 2


def test_a_token_of_its_own_replaces_the_signing_secret_for_the_tool_endpoints(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(incident_webhook_token="tool-token-only")

    with_secret = post(bot, recent_close(bot), token=INCIDENT_SECRET)
    with_token = post(bot, recent_close(bot), token="tool-token-only")

    # The HMAC key of /webhooks/incident no longer opens these endpoints.
    assert with_secret.status_code == 401
    assert with_token.status_code == 201


def test_without_a_secret_the_endpoint_says_what_to_set(incident_bot: BotFactory) -> None:
    bot = incident_bot(incident_webhook_secret=None)

    answer = post(bot, recent_close(bot))

    assert answer.status_code == 503
    assert "INCIDENT_WEBHOOK_TOKEN (or INCIDENT_WEBHOOK_SECRET)" in answer.json()["error"]
    assert "Authorization: Bearer" in answer.json()["error"]
    assert stored(bot) == []


# -- where it opens --------------------------------------------------------------------------


def test_without_a_channel_it_opens_in_the_default_channel(incident_bot: BotFactory) -> None:
    bot = incident_bot(default_channel="C0DEFAULT")

    answer = post(bot, recent_close(bot))

    assert answer.json()["channel"] == "C0DEFAULT"
    assert bot.slack.wait_for("chat.postMessage")[0].params["channel"] == "C0DEFAULT"


def test_a_channel_on_the_url_wins_over_the_default_channel(incident_bot: BotFactory) -> None:
    bot = incident_bot(default_channel="C0DEFAULT")

    answer = post(bot, recent_close(bot), channel="C0CHECKOUT")

    assert answer.json()["channel"] == "C0CHECKOUT"
    assert bot.slack.wait_for("chat.postMessage")[0].params["channel"] == "C0CHECKOUT"


def test_without_any_channel_it_is_stored_unrouted(incident_bot: BotFactory) -> None:
    bot = incident_bot()

    answer = post(bot, recent_close(bot))

    assert answer.status_code == 201
    assert answer.json()["channel"] is None
    assert "no channel" in bot.user("U0ALICE").answer("status")


def test_a_channel_that_is_no_channel_id_is_a_400_naming_it(incident_bot: BotFactory) -> None:
    bot = incident_bot(default_channel="C0DEFAULT")
    close = recent_close(bot)

    name = post(bot, close, channel="#checkout")
    lower = post(bot, close, channel="c0checkout")
    empty = post(bot, close, channel="")
    newline = post(bot, close, channel="C0CHECKOUT\n")
    too_long = post(bot, close, channel="C" + "A" * 40)  # longer than any id (or its column)
    twice = bot.http.post(
        f"{PATH}?channel=C0ONE&channel=C0TWO",
        content=json.dumps(close).encode(),
        headers={"Authorization": f"Bearer {INCIDENT_SECRET}"},
    )

    for answer in (name, lower, empty, newline, too_long, twice):
        assert answer.status_code == 400
        assert answer.json()["error"].startswith("channel (query parameter): ")
    assert "#checkout" in name.json()["error"]
    # `?channel=#checkout` typed in a tool's URL field arrives empty (a fragment is not sent).
    assert "'#' starts the fragment of a web address" in empty.json()["error"]
    assert stored(bot) == []
    assert nothing_posted(bot)


# -- bad input --------------------------------------------------------------------------------


def test_a_close_that_cannot_be_used_is_a_400_naming_the_field(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    now = bot.clock()

    def close_with(**alert: Any) -> dict[str, Any]:
        payload = recent_close(bot)
        payload["alert"].update(alert)
        return payload

    no_alert = recent_close(bot)
    del no_alert["alert"]
    no_id = recent_close(bot)
    del no_id["alert"]["alertId"]
    no_time = recent_close(bot)
    del no_time["alert"]["updatedAt"]
    cases: list[tuple[str, dict[str, Any] | bytes, str]] = [
        ("not JSON", b"<xml>nope</xml>", "the body is not JSON"),
        ("an array", b"[]", "(body): must be a JSON object"),
        ("no action", {"alert": recent_close(bot)["alert"]}, "action: Field required"),
        ("no alert", no_alert, "alert: Field required"),
        ("no alertId", no_id, "alert.alertId: Field required"),
        ("blank alertId", close_with(alertId="  "), "alert.alertId: "),
        ("NUL in alertId", close_with(alertId="a\u0000b"), "alert.alertId: "),
        ("a null message", close_with(message=None), "alert.message: Input should be a valid"),
        ("no updatedAt", no_time, "alert.updatedAt: Field required"),
        ("text time", close_with(updatedAt="2026-11-24T13:00:00Z"), "alert.updatedAt: "),
        ("1970", close_with(updatedAt=1), "alert.updatedAt: Value error, is before 2000"),
        (
            "days ahead",
            close_with(updatedAt=nanoseconds(now + timedelta(days=2))),
            "alert.updatedAt: Value error, is more than a day in the future",
        ),
        ("a year 10000", close_with(updatedAt=10**25), "alert.updatedAt: "),
        ("a boolean", close_with(updatedAt=True), "alert.updatedAt: "),
    ]

    for name, body, error in cases:
        answer = post(bot, body)

        assert answer.status_code == 400, name
        assert answer.json()["ok"] is False
        assert answer.json()["error"].startswith(error), (name, answer.json())
    assert stored(bot) == []
    assert nothing_posted(bot)


def test_an_action_that_is_not_text_is_a_400_naming_it(incident_bot: BotFactory) -> None:
    bot = incident_bot()

    for action in ({}, {"Close": 1}, [], ["Close"], 3, None):
        answer = post(bot, {"action": action, "alert": recent_close(bot)["alert"]})

        assert answer.status_code == 400, action
        assert answer.json()["error"].startswith("action: Input should be 'Close'"), action
    assert stored(bot) == []
    assert nothing_posted(bot)


def test_a_close_without_its_message_is_a_400_naming_it(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    close = recent_close(bot)
    del close["alert"]["message"]

    answer = post(bot, close)

    assert answer.status_code == 400
    assert answer.json()["error"] == "alert.message: Field required"
    assert stored(bot) == []


def test_odd_text_in_the_message_is_cleaned_and_the_postmortem_opens(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    close = recent_close(bot)
    close["alert"]["message"] = "  disk\u0000 full \ud83d " + "x" * 400

    answer = post(bot, close)

    assert answer.status_code == 201
    [row] = stored(bot)
    assert row.title.startswith("disk full \ufffd x")
    assert len(row.title) == 300


def test_a_token_holder_cannot_make_the_bot_read_more_than_a_megabyte(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    def five_megabytes() -> Iterator[bytes]:
        for _ in range(80):
            yield b"x" * 65536

    chunked = bot.http.post(
        PATH, content=five_megabytes(), headers={"Authorization": f"Bearer {INCIDENT_SECRET}"}
    )
    url = bot.http.base_url
    with socket.create_connection((url.host, url.port), timeout=5) as connection:
        connection.sendall(
            f"POST {PATH} HTTP/1.1\r\nHost: {url.host}\r\n"
            f"Authorization: Bearer {INCIDENT_SECRET}\r\n"
            "Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n{".encode()
        )
        declared = connection.recv(4096).split(b"\r\n", 1)[0]

    assert chunked.status_code == 413
    assert chunked.json()["error"] == "request body too large"
    assert declared == b"HTTP/1.1 413 Request Entity Too Large"
    assert bot.http.get("/healthz").status_code == 200
