"""``POST /webhooks/incident``: any tool hands over a resolved incident, signed like PagerDuty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot.persistence.tables import PostmortemRow
from bot.webhooks.incident import IncidentWebhook
from tests.conftest import BotHarness
from tests.e2e.conftest import INCIDENT_SECRET, BotFactory
from tests.support.signing import pagerduty_signature
from tests.support.slack_user import block_text, buttons

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


def stored(bot: BotHarness) -> list[Any]:
    with bot.runtime.engine.connect() as connection:
        return list(connection.execute(select(PostmortemRow)))


def test_the_published_json_schema_is_the_models_schema() -> None:
    assert json.loads(SCHEMA.read_text()) == IncidentWebhook.model_json_schema()


def test_a_signed_incident_opens_a_postmortem_with_its_people_and_reasons(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0ALICE", "alice@example.com")

    answer = send(bot, incident())

    assert answer.status_code == 201
    assert answer.json() == {
        "ok": True,
        "outcome": "opened",
        "postmortem_id": 1,
        "channel": "C0CHECKOUT",
    }
    prompt = bot.slack.wait_for("chat.postMessage")[0].params
    assert prompt["channel"] == "C0CHECKOUT"
    text = block_text(prompt["blocks"])
    assert "Postmortem: Checkout latency over SLO" in text
    assert "severity *SEV2*" in text
    assert "<@U0ALICE> — was initially assigned to the alert and led the response" in text
    assert "<@U0BOB> — was the primary on-call for the most heavily affected service" in text
    assert "Nora Nobody _(no matching Slack user found)_ — manually triggered" in text
    assert [b.get("value") for b in buttons(prompt["blocks"])][:2] == ["1|U0ALICE", "1|U0BOB"]
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
