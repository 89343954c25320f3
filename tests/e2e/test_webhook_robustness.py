"""Both webhooks under what real senders and real APIs do: slow look-ups, redeliveries,
odd payloads. Through the real HTTP app, against the Slack and PagerDuty stand-ins.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from bot.devtools.pagerduty_standin import PagerDutyStandIn
from bot.persistence.tables import IncidentEventRow, PostmortemRow
from bot.services.incidents import LOOKUP_SECONDS, LOOKUPS_CUT_SHORT_NOTE
from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import PAGERDUTY_SECRET, PAGERDUTY_TOKEN
from tests.e2e.test_incident_webhook import incident, send
from tests.e2e.test_pagerduty_webhook import (
    ALICE,
    INCIDENT,
    ROUTED,
    ROUTES,
    TESS,
    arrange_people,
    deliver,
    event,
    full_incident,
    person,
    prompt_text,
    resolved,
    rows,
)
from tests.support.signing import pagerduty_signature
from tests.support.slack_user import block_text
from tests.support.webhooks import stored

# PagerDuty gives up on a delivery after 5 seconds (and retries it later).
PAGERDUTY_TIMEOUT = 5.0
# Longer than any look-up may take, so a delayed stand-in is one that does not answer.
NO_ANSWER = 30.0
# Longer than the look-up deadline, short enough for the calls left running to end soon.
SLOW_SLACK = LOOKUP_SECONDS + 1


def deliver_as_pagerduty(bot: BotHarness, payload: dict[str, Any], webhook_id: str) -> Any:
    """Deliver like PagerDuty does: no answer within its timeout is a failed delivery."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Id": webhook_id,
        "X-PagerDuty-Signature": pagerduty_signature(PAGERDUTY_SECRET, body),
    }
    try:
        return bot.http.post(
            "/webhooks/pagerduty", content=body, headers=headers, timeout=PAGERDUTY_TIMEOUT
        )
    except httpx.TimeoutException:
        pytest.fail(f"no answer within PagerDuty's {PAGERDUTY_TIMEOUT:g} s delivery timeout")


def lookup_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "did not finish within" in r.getMessage()
    ]


# -- 1. PagerDuty look-ups share one deadline, each tried once --------------------------------


def test_an_unresponsive_pagerduty_api_still_opens_the_postmortem_within_pagerdutys_timeout(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    full_incident(bot)  # Tess triggered it, Alice acknowledged: known from the events
    pagerduty.delay("", NO_ANSWER)  # on-call and user look-ups: no answer

    answer = deliver_as_pagerduty(bot, resolved(bot), "W-3")

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "opened"
    text, prompt = prompt_text(bot)
    assert prompt["channel"] == ROUTED
    # What the events said is kept; who they are in Slack could not be looked up in time.
    assert "Alice Assignee _(no matching Slack user found)_ — was initially assigned" in text
    assert "Tess Trigger _(no matching Slack user found)_ — manually triggered" in text
    [postmortem] = rows(bot, PostmortemRow)
    assert LOOKUPS_CUT_SHORT_NOTE in postmortem.notes
    assert len(lookup_warnings(caplog)) == 1
    assert f"pagerduty:{INCIDENT}" in lookup_warnings(caplog)[0]
    # Tried once each (a retry could only come too late).
    assert len(pagerduty.calls("/oncalls")) == 1
    for who in (ALICE, TESS):
        assert len(pagerduty.calls(f"/users/{who[0]}")) <= 1
    assert [r.event_type for r in rows(bot, IncidentEventRow)][-1] == "incident.resolved"


def test_an_unresponsive_pagerduty_api_for_a_missed_trigger_still_opens_the_postmortem(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    pagerduty.delay("", NO_ANSWER)  # the incident, its log entries, the on-call: no answer

    answer = deliver_as_pagerduty(bot, resolved(bot, agent=person(ALICE)), "W-1")

    assert answer.json()["outcome"] == "opened"
    assert "Postmortem: Test Incident" in prompt_text(bot)[0]
    # Each tried once; the log entries are not asked for once the incident gave no answer.
    assert len(pagerduty.calls(f"/incidents/{INCIDENT}")) == 1
    assert pagerduty.calls(f"/incidents/{INCIDENT}/log_entries") == []
    assert len(pagerduty.calls("/oncalls")) <= 1
    assert len(lookup_warnings(caplog)) == 1


def test_slow_slack_email_look_ups_are_cut_off_by_the_same_deadline(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    full_incident(bot)
    bot.slack.delay("users.lookupByEmail", SLOW_SLACK)

    answer = deliver_as_pagerduty(bot, resolved(bot), "W-3")

    assert answer.json()["outcome"] == "opened"
    text, _ = prompt_text(bot)
    assert "Alice Assignee _(no matching Slack user found)_" in text
    assert "Oscar Oncall _(no matching Slack user found)_ — was the primary on-call" in text
    assert len(lookup_warnings(caplog)) == 1


def test_look_ups_that_answer_in_time_give_no_warning(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    full_incident(bot)

    deliver_as_pagerduty(bot, resolved(bot), "W-3")

    assert "<@U0ALICE> — was initially assigned" in prompt_text(bot)[0]
    assert lookup_warnings(caplog) == []
    [postmortem] = rows(bot, PostmortemRow)
    assert LOOKUPS_CUT_SHORT_NOTE not in postmortem.notes
    # Alice meets two criteria: looked up once.
    assert len(pagerduty.calls(f"/users/{ALICE[0]}")) == 1


# -- 2. The generic webhook: no look-up for a redelivery, one per email, a cap on people --------


def test_a_redelivered_incident_is_answered_without_looking_anyone_up(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    assert send(bot, incident()).status_code == 201
    looked_up = len(bot.slack.calls("users.lookupByEmail"))
    assert looked_up == 2  # alice@ and nobody@; Bob is named by his Slack id

    again = send(bot, incident())

    assert again.status_code == 200
    assert again.json()["outcome"] == "already_open"
    assert len(bot.slack.calls("users.lookupByEmail")) == looked_up


def test_each_distinct_email_is_looked_up_once(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0SAM", "sam@example.com")
    spellings = ["sam@example.com", "Sam@Example.com", "SAM@EXAMPLE.COM"]
    people = {
        "led_response": [{"email": e} for e in spellings * 2],
        "primary_on_call": [{"email": e} for e in spellings],
        "manually_triggered": [{"email": "sam@example.com", "name": "Sam"}],
    }

    answer = send(bot, incident(people=people))

    assert answer.status_code == 201
    assert len(bot.slack.calls("users.lookupByEmail")) == 1
    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "<@U0SAM> — was initially assigned" in text
    assert "manually triggered the incident" in text.split("<@U0SAM>")[1]


def test_more_than_400_people_for_one_criterion_is_a_400_naming_it(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    def many(n: int) -> list[dict[str, str]]:
        return [{"slack_user_id": f"U{i:05d}"} for i in range(n)]

    too_many = send(bot, incident(incident_id="INC-1", people={"primary_on_call": many(401)}))
    at_the_cap = send(bot, incident(incident_id="INC-2", people={"primary_on_call": many(400)}))

    assert too_many.status_code == 400
    assert too_many.json()["error"].startswith("people.primary_on_call: ")
    assert "at most 400" in too_many.json()["error"]
    assert at_the_cap.status_code == 201
    assert [row.incident_key for row in stored(bot)] == ["opsgenie:INC-2"]


def test_slow_slack_look_ups_do_not_hold_the_generic_webhook_past_the_deadline(
    incident_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot = incident_bot()
    bot.slack.add_user("U0ALICE", "alice@example.com")
    bot.slack.delay("users.lookupByEmail", SLOW_SLACK)
    body = json.dumps(incident()).encode()
    headers = {"X-Signature": pagerduty_signature("incident-webhook-secret", body)}

    answer = bot.http.post(
        "/webhooks/incident", content=body, headers=headers, timeout=PAGERDUTY_TIMEOUT
    )

    assert answer.status_code == 201
    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "Alice _(no matching Slack user found)_ — was initially assigned" in text
    assert "<@U0BOB> — was the primary on-call" in text  # named by id: nothing to look up
    assert len(lookup_warnings(caplog)) == 1


# -- 3. Nesting no incident payload has -----------------------------------------------------


def nested(depth: int) -> Any:
    return json.loads("[" * depth + "]" * depth)


def test_a_deeply_nested_body_is_a_400_not_a_server_error(incident_bot: BotFactory) -> None:
    bot = incident_bot(routes=ROUTES)
    far_too_deep = b"[" * 100_000 + b"]" * 100_000  # beyond what the JSON parser can take
    annotated = event("triggered", minutes_ago=5, bot=bot)
    annotated["event"]["event_type"] = "incident.annotated"
    annotated["event"]["data"] = {"type": "incident_note", "incident": {"id": INCIDENT}}
    annotated["event"]["data"]["content"] = nested(900)  # parsed, but too deep to handle

    answers = {
        "pagerduty, unparseable": deliver(bot, far_too_deep, webhook_id="W-1"),
        "pagerduty, in the event": deliver(bot, annotated, webhook_id="W-2"),
        "pagerduty, resolved": deliver(bot, resolved(bot, title=nested(40)), webhook_id="W-3"),
        "incident, unparseable": send(bot, far_too_deep),
        "incident, in a field": send(bot, incident(incident_id=nested(900))),
    }

    for where, answer in answers.items():
        assert answer.status_code == 400, where
        assert "nests arrays and objects more than 32 levels deep" in answer.json()["error"]
    assert rows(bot, PostmortemRow) == []
    assert rows(bot, IncidentEventRow) == []
    assert bot.http.get("/healthz").status_code == 200


def test_nesting_as_deep_as_the_limit_is_kept(incident_bot: BotFactory) -> None:
    bot = incident_bot(routes=ROUTES)
    # The envelope, the event and its data are three levels; 29 more make 32.
    payload = resolved(bot, custom_details=nested(29))

    answer = deliver(bot, payload, webhook_id="W-1")

    assert answer.json()["outcome"] == "opened"
    [recorded] = rows(bot, IncidentEventRow)
    assert recorded.data["custom_details"] == nested(29)


# -- 4. Unpaired surrogates ------------------------------------------------------------------

LONE = "\ud83d"  # the first half of 😀, without its second


def test_lone_surrogates_in_pagerduty_text_are_replaced_and_the_postmortem_opens(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    payload = resolved(
        bot,
        agent={**person(ALICE), "summary": f"Alice{LONE} Assignee"},
        title=f"Disk full {LONE}",
        priority={"id": "PSEV1", "type": "priority", "summary": f"P1{LONE}"},
        service={"id": "PA2P440", "type": "service_reference", "summary": f"pig{LONE}208"},
        custom_details={f"key{LONE}": f"value{LONE}"},
    )

    first = deliver(bot, payload, webhook_id="W-1")
    again = deliver(bot, payload, webhook_id="W-2")

    assert (first.status_code, first.json()["outcome"]) == (200, "opened")
    assert (again.status_code, again.json()["outcome"]) == (200, "already_open")
    [postmortem] = rows(bot, PostmortemRow)
    assert (postmortem.title, postmortem.severity, postmortem.service) == (
        "Disk full \ufffd",
        "P1\ufffd",
        "pig\ufffd208",
    )
    [recorded] = rows(bot, IncidentEventRow)
    assert recorded.agent_name == "Alice\ufffd Assignee"
    assert recorded.data["custom_details"] == {"key\ufffd": "value\ufffd"}
    assert "Postmortem: Disk full \ufffd" in prompt_text(bot)[0]


def test_a_lone_surrogate_in_a_pagerduty_id_is_a_400_naming_it(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    annotated = event("triggered", minutes_ago=5, bot=bot)
    annotated["event"]["event_type"] = "incident.annotated"
    annotated["event"]["data"] = {"type": "incident_note", "incident": {"id": f"P{LONE}X"}}
    bad_event_id = resolved(bot)
    bad_event_id["event"]["id"] = f"EV{LONE}"
    cases = [
        ("event.data.incident.id", annotated),
        ("event.data.id", resolved(bot, id=f"PCP{LONE}")),
        ("event.id", bad_event_id),
    ]

    for n, (field, payload) in enumerate(cases):
        answer = deliver(bot, payload, webhook_id=f"W-{n}")

        assert answer.status_code == 400, field
        assert answer.json()["error"].startswith(f"{field}: "), answer.json()
        assert "unpaired UTF-16 surrogate" in answer.json()["error"]
    assert rows(bot, IncidentEventRow) == []


def test_a_lone_surrogate_in_generic_webhook_text_is_a_400_naming_the_field(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    cases = [
        ("title", incident(title=f"Checkout {LONE}")),
        ("incident_id", incident(incident_id=f"INC{LONE}")),
        (
            "people.led_response.0.name",
            incident(people={"led_response": [{"email": "a@b.c", "name": LONE}]}),
        ),
        ("typo\ufffd", incident(**{f"typo{LONE}": 1})),
    ]

    for field, body in cases:
        answer = send(bot, body)

        assert answer.status_code == 400, field
        assert answer.json()["error"].startswith(f"{field}: "), answer.json()
    assert "unpaired UTF-16 surrogate" in send(bot, cases[0][1]).json()["error"]
    assert stored(bot) == []


# -- 5. Events the bot does not use are ignored before they are validated ----------------------


def test_events_the_bot_does_not_use_are_ignored_whatever_else_they_hold(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    unused: list[dict[str, Any]] = [
        {"event": {"id": "X1", "event_type": "service.deleted", "data": None}},
        {"event": {"id": "X2", "event_type": "service.updated", "occurred_at": "yesterday"}},
        {"event": {"id": "X3", "event_type": "service." + "x" * 100, "data": {}}},
        {"event": {"id": "X" * 500, "event_type": "pagey.ping", "data": nested(500)}},
        {"event": {"event_type": f"service.{LONE}\u0000", "occurred_at": 7}},
    ]

    answers = [deliver(bot, payload, webhook_id=f"W-{n}") for n, payload in enumerate(unused)]

    assert [a.status_code for a in answers] == [200] * len(unused)
    assert {a.json()["outcome"] for a in answers} == {"ignored"}
    assert answers[0].json()["reason"] == "event type service.deleted is not handled"
    assert rows(bot, IncidentEventRow) == []


def test_incident_events_are_still_validated_in_full(incident_bot: BotFactory) -> None:
    bot = incident_bot(routes=ROUTES)
    no_data = resolved(bot)
    no_data["event"]["data"] = None
    long_type = event("acknowledged", minutes_ago=5, bot=bot)
    long_type["event"]["event_type"] = "incident." + "x" * 100

    answers = [deliver(bot, no_data, webhook_id="W-1"), deliver(bot, long_type, webhook_id="W-2")]

    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json()["error"].startswith("event.data: ")
    assert answers[1].json()["error"].startswith("event.event_type: ")


# -- 6. The generic webhook's stricter fields ---------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("incident_id", "   ", "must not be blank"),
        ("title", " \t\n", "must not be blank"),
        ("false_alarm", "yes", "valid boolean"),
        ("false_alarm", "true", "valid boolean"),
        ("false_alarm", 1, "valid boolean"),
        ("resolved_at", 1420452191104, "RFC 3339"),
        ("resolved_at", "1764000000", "RFC 3339"),
        ("resolved_at", "2026-11-24", "RFC 3339"),
        ("source", "pagerduty", "reserved for the built-in PagerDuty webhook"),
        ("source", "slack", "reserved for the built-in /postmortem start command"),
        ("channel", "C" + "A" * 40, "should match pattern"),
    ],
)
def test_the_generic_webhook_refuses_a_field_no_tool_should_send_naming_it(
    incident_bot: BotFactory, field: str, value: Any, reason: str
) -> None:
    bot = incident_bot()

    answer = send(bot, incident(**{field: value}))

    assert answer.status_code == 400
    assert answer.json()["error"].startswith(f"{field}: "), answer.json()
    assert reason in answer.json()["error"]
    assert stored(bot) == []


def test_the_generic_webhook_still_takes_what_its_table_documents(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    answers = [
        send(bot, incident(incident_id="INC-1", false_alarm=True, people={})),
        send(bot, incident(incident_id="INC-2", resolved_at="2026-11-24T14:40:00+01:00")),
        send(bot, incident(incident_id=" INC-3 ", title=" padded ", source="pagerduty-mirror")),
    ]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert {row.incident_key for row in stored(bot)} == {
        "opsgenie:INC-1",
        "opsgenie:INC-2",
        "pagerduty-mirror: INC-3 ",
    }


# -- 7. Severity from urgency when PagerDuty has no priority -------------------------------------


def test_without_a_priority_the_severity_is_the_incidents_urgency(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    high = resolved(bot, priority=None, urgency="high")
    prioritised = resolved(bot, id="PPRIO01", urgency="high")
    prioritised["event"]["id"] = "EV-prioritised"
    prioritised["event"]["data"]["priority"] = {"id": "PSEV1", "type": "priority", "summary": "P1"}

    deliver(bot, high, webhook_id="W-1")
    deliver(bot, prioritised, webhook_id="W-2")

    severities = {row.incident_key: row.severity for row in rows(bot, PostmortemRow)}
    assert severities == {f"pagerduty:{INCIDENT}": "high urgency", "pagerduty:PPRIO01": "P1"}
    assert " · *high urgency*" in prompt_text(bot)[0]  # an urgency, not called a severity
