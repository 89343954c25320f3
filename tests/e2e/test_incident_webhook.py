"""``POST /webhooks/incident``: any tool hands over a resolved incident, signed like PagerDuty."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.webhooks.incident import IncidentWebhook
from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import INCIDENT_SECRET
from tests.support.signing import pagerduty_signature
from tests.support.slack_user import block_text
from tests.support.waiting import wait_until
from tests.support.webhooks import opened_with_prompt, stored

SCHEMA = Path(__file__).resolve().parents[2] / "bot" / "schemas" / "incident-webhook.schema.json"


def incident(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "incident_id": "INC-42",
        "source": "opsgenie",
        "title": "Checkout latency over SLO",
        "severity": "SEV2",
        "resolved_at": "2026-11-24T13:40:00Z",
        "service": "checkout",
        "channel": "C0CHECKOUT",
        "people": {
            "led_response": [{"email": "alice@example.com", "name": "Alice"}],
            "primary_on_call": [{"slack_user_id": "U0BOB"}],
            "manually_triggered": [{"email": "nobody@example.com", "name": "Nora Nobody"}],
        },
    }
    body.update(changes)
    return body


def send(
    bot: BotHarness, payload: dict[str, Any] | bytes, *, secret: str | None = INCIDENT_SECRET
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Signature"] = pagerduty_signature(secret, body)
    return bot.http.post("/webhooks/incident", content=body, headers=headers)


def test_the_published_json_schema_is_the_models_schema() -> None:
    assert json.loads(SCHEMA.read_text()) == IncidentWebhook.model_json_schema()


def test_a_signed_incident_opens_a_postmortem_with_its_people_and_reasons(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0ALICE", "alice@example.com")

    answer = send(bot, incident())

    text, values = opened_with_prompt(bot, answer, channel="C0CHECKOUT")
    assert "Postmortem: Checkout latency over SLO" in text
    assert "severity *SEV2*" in text
    assert "<@U0ALICE> — was initially assigned to the alert and led the response" in text
    assert "<@U0BOB> — was the primary on-call for the most heavily affected service" in text
    assert "Nora Nobody _(no matching Slack user found)_ — manually triggered" in text
    assert values[:2] == ["1|U0ALICE", "1|U0BOB"]
    [row] = stored(bot)
    assert (row.incident_key, row.source) == ("opsgenie:INC-42", "opsgenie")


def test_sending_the_same_incident_again_does_not_open_a_second_postmortem(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    send(bot, incident())

    again = send(bot, incident(title="Checkout latency (updated)"))

    assert again.status_code == 200
    assert again.json()["outcome"] == "already_open"
    assert len(stored(bot)) == 1


def test_a_redelivery_after_a_cancel_says_the_postmortem_is_cancelled_and_opens_nothing(
    make_bot: BotFactory,
) -> None:
    # "already_open" alone read, in the tool's delivery log, as if the postmortem were open.
    bot = make_bot(policy="incident_managers: [U0IM]\n", incident_webhook_secret=INCIDENT_SECRET)
    first = send(bot, incident())
    bot.settle()
    cancelled = bot.user("U0IM", channel_id="C0CHECKOUT").answer("cancel opened twice: INC-41")

    again = send(bot, incident())

    assert first.json()["state"] == "awaiting_owner"
    assert cancelled.startswith("Cancelled postmortem #1")
    assert again.status_code == 200
    assert again.json() == {
        "ok": True,
        "outcome": "already_open",
        "postmortem_id": 1,
        "channel": "C0CHECKOUT",
        "state": "cancelled",
    }
    assert len(stored(bot)) == 1


def test_a_false_alarm_is_still_opened_and_marked(incident_bot: BotFactory) -> None:
    bot = incident_bot()

    send(bot, incident(false_alarm=True, people={}))

    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "Possible false alarm" in text
    [row] = stored(bot)
    assert row.false_alarm is True


def test_without_a_channel_it_opens_in_the_default_channel(incident_bot: BotFactory) -> None:
    bot = incident_bot(default_channel="C0DEFAULT")

    send(bot, incident(channel=None))

    assert bot.slack.wait_for("chat.postMessage")[0].params["channel"] == "C0DEFAULT"


def test_without_any_channel_it_is_stored_unrouted(incident_bot: BotFactory) -> None:
    bot = incident_bot()

    answer = send(bot, incident(channel=None))

    assert answer.status_code == 201
    assert answer.json()["channel"] is None
    assert "no channel" in bot.user("U0ALICE").answer("status")


def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    wrong = send(bot, incident(), secret="not-the-secret")
    missing = send(bot, incident(), secret=None)

    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert "X-Signature" in wrong.json()["error"]
    assert stored(bot) == []


def test_an_invalid_body_is_a_400_naming_the_field(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    no_title = incident()
    del no_title["title"]

    garbage = send(bot, b"<xml>nope</xml>")
    missing = send(bot, no_title)
    naive_time = send(bot, incident(resolved_at="2026-11-24T13:40:00"))
    nobody = send(bot, incident(people={"led_response": [{"name": "Who?"}]}))
    typo = send(bot, incident(severty="SEV1"))

    assert {r.status_code for r in (garbage, missing, naive_time, nobody, typo)} == {400}
    assert "not JSON" in garbage.json()["error"]
    assert "title" in missing.json()["error"]
    assert "resolved_at" in naive_time.json()["error"]
    assert "people.led_response.0" in nobody.json()["error"]
    assert "severty" in typo.json()["error"]
    assert stored(bot) == []


def test_without_a_secret_the_endpoint_says_what_to_set(incident_bot: BotFactory) -> None:
    bot = incident_bot(incident_webhook_secret=None)

    answer = send(bot, incident())

    assert answer.status_code == 503
    assert "INCIDENT_WEBHOOK_SECRET" in answer.json()["error"]


def test_a_resolved_at_no_date_arithmetic_can_use_is_a_400_and_nothing_is_stored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    # The last representable second (a week later overflows), a time before year 1 in UTC,
    # and one merely implausible.
    times = ("9999-12-31T23:59:59Z", "0001-01-01T00:30:00+01:00", "1999-12-31T23:59:59Z")

    answers = [
        send(bot, incident(incident_id=f"INC-{i}", resolved_at=t)) for i, t in enumerate(times)
    ]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert all(a.json()["error"].startswith("resolved_at: ") for a in answers)
    assert "in the future" in answers[0].json()["error"]
    assert "before 2000" in answers[1].json()["error"]
    assert "before 2000" in answers[2].json()["error"]
    assert stored(bot) == []
    assert bot.slack.calls("chat.postMessage") == []


def test_a_resolved_at_in_the_future_is_a_400_beyond_a_few_minutes_of_clock_skew(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    now = bot.clock()

    def at(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    years_ahead = send(bot, incident(incident_id="INC-1", resolved_at="2030-01-01T00:00:00Z"))
    minutes_ahead = send(
        bot, incident(incident_id="INC-2", resolved_at=at(now + timedelta(minutes=6)))
    )
    skewed = send(bot, incident(incident_id="INC-3", resolved_at=at(now + timedelta(minutes=4))))

    assert (years_ahead.status_code, minutes_ahead.status_code) == (400, 400)
    assert years_ahead.json()["error"].startswith("resolved_at: ")
    assert "is in the future" in years_ahead.json()["error"]
    assert "is in the future" in minutes_ahead.json()["error"]
    assert skewed.status_code == 201
    [row] = stored(bot)
    assert row.incident_key == "opsgenie:INC-3"
    assert row.resolved_at == now + timedelta(minutes=4)


def test_text_a_database_cannot_store_is_a_400_naming_the_field(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    nul = "\u0000"
    cases = [
        ("incident_id", incident(incident_id=f"INC{nul}42"), "NUL"),
        ("title", incident(title=f"Checkout{nul} latency"), "NUL"),
        ("severity", incident(severity=f"SEV{nul}2"), "NUL"),
        ("service", incident(service=f"check{nul}out"), "NUL"),
        (
            "people.led_response.0.name",
            incident(people={"led_response": [{"slack_user_id": "U0ALICE", "name": f"A{nul}"}]}),
            "NUL",
        ),
        (
            "people.primary_on_call.0.email",
            incident(people={"primary_on_call": [{"email": f"bob{nul}@example.com"}]}),
            "NUL",
        ),
    ]

    for field, body, reason in cases:
        answer = send(bot, body)

        assert answer.status_code == 400, field
        assert answer.json()["error"].startswith(f"{field}: "), answer.json()
        assert reason in answer.json()["error"]
    assert stored(bot) == []
    assert bot.slack.calls("chat.postMessage") == []


def look_up_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("lookups")}


def test_stopping_leaves_no_look_up_thread_behind(incident_bot: BotFactory) -> None:
    before = look_up_threads()  # another test's, in this process: not this bot's to end
    bot = incident_bot()
    answer = send(bot, incident())  # people by email: looked up on the look-up threads
    assert answer.status_code == 201
    assert look_up_threads() - before

    bot.runtime.stop()

    wait_until(lambda: not look_up_threads() - before)
