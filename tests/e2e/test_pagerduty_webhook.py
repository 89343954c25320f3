"""PagerDuty v3 webhooks open postmortems, through the real HTTP app and both stand-ins.

Payloads are PagerDuty's own example shapes (the captured ``incident.*`` deliveries and
the documented REST examples in shared/vendor-payloads), re-signed after each edit.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bot.devtools.pagerduty_standin import PagerDutyStandIn, user_reference
from bot.domain.document import Document, Section
from bot.persistence.tables import IncidentEventRow, PostmortemRow, ProcessedDeliveryRow
from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import PAGERDUTY_SECRET, PAGERDUTY_TOKEN
from tests.e2e.test_document import filled
from tests.support.lifecycle import errors
from tests.support.signing import pagerduty_signature
from tests.support.slack_user import block_text, buttons
from tests.support.vendor import vendor_json

INCIDENT = "PCPZE64"
SERVICE = "PA2P440"
POLICY = "PY82TC6"
ROUTED = "C0PIG208"
ROUTES = f"  - {{pagerduty_service: {SERVICE}, channel: {ROUTED}}}\n"

ALICE = ("PALICE1", "Alice Assignee", "alice@example.com", "U0ALICE")
OSCAR = ("POSCAR1", "Oscar Oncall", "oscar@example.com", None)  # not in Slack
TESS = ("PTESS01", "Tess Trigger", "tess@example.com", "U0TESS")
BOB = ("PBOB001", "Bob Backup", "bob@example.com", "U0BOB")


def event(kind: str, *, minutes_ago: int, bot: BotHarness, agent: Any = "keep") -> dict[str, Any]:
    """A captured v3 delivery of ``kind``, moved onto our incident and the test's clock."""
    name = f"pagerduty_v3_incident_{kind}_captured_zulip.json"
    payload: dict[str, Any] = copy.deepcopy(vendor_json(name))
    moment = bot.clock() - timedelta(minutes=minutes_ago)
    payload["event"]["occurred_at"] = moment.isoformat().replace("+00:00", "Z")
    payload["event"]["id"] = f"EV-{kind}-{minutes_ago}"
    payload["event"]["data"]["id"] = INCIDENT
    if agent != "keep":
        payload["event"]["agent"] = agent
    return payload


def person(who: tuple[str, str, str, str | None]) -> dict[str, Any]:
    return user_reference(who[0], who[1])


def deliver(
    bot: BotHarness,
    payload: dict[str, Any] | bytes,
    *,
    webhook_id: str,
    signature: str | None = "sign",
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Webhook-Id": webhook_id}
    if signature == "sign":
        headers["X-PagerDuty-Signature"] = pagerduty_signature(PAGERDUTY_SECRET, body)
    elif signature is not None:
        headers["X-PagerDuty-Signature"] = signature
    return bot.http.post("/webhooks/pagerduty", content=body, headers=headers)


def rows(bot: BotHarness, table: Any) -> list[Any]:
    with bot.runtime.engine.connect() as connection:
        return list(connection.execute(select(table)))


def prompt_text(bot: BotHarness) -> tuple[str, dict[str, Any]]:
    prompt = bot.slack.wait_for("chat.postMessage")[0].params
    return block_text(prompt["blocks"]), prompt


def arrange_people(bot: BotHarness, pagerduty: PagerDutyStandIn) -> None:
    """Alice and Tess are in Slack by email; Oscar is on call but has no Slack account."""
    for pd_id, name, email, slack_id in (ALICE, OSCAR, TESS, BOB):
        pagerduty.add_user(pd_id, name=name, email=email)
        if slack_id:
            bot.slack.add_user(slack_id, email, real_name=name)
    documented = vendor_json("pagerduty_rest_get_oncalls_doc.json")["oncalls"][0]
    pagerduty.oncalls = [
        {**documented, "user": person(who), "escalation_level": level}
        for who, level in ((ALICE, 1), (OSCAR, 1), (BOB, 2))
    ]


def full_incident(bot: BotHarness) -> None:
    """Tess triggers it by hand, Alice is assigned and acknowledges, Alice resolves it."""
    triggered = event("triggered", minutes_ago=50, bot=bot, agent=person(TESS))
    triggered["event"]["data"]["assignees"] = [person(ALICE)]
    assert deliver(bot, triggered, webhook_id="W-1").status_code == 200
    acknowledged = event("acknowledged", minutes_ago=45, bot=bot, agent=person(ALICE))
    acknowledged["event"]["data"]["assignees"] = [person(ALICE)]
    assert deliver(bot, acknowledged, webhook_id="W-2").status_code == 200


def resolved(bot: BotHarness, **changes: Any) -> dict[str, Any]:
    payload = event("resolved", minutes_ago=5, bot=bot, agent=changes.pop("agent", person(ALICE)))
    payload["event"]["data"].update(changes)
    return payload


def test_resolved_incident_opens_one_postmortem_in_the_routed_channel_with_reasons(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    full_incident(bot)

    response = deliver(bot, resolved(bot), webhook_id="W-3")

    assert response.status_code == 200
    assert response.json()["outcome"] == "opened"
    text, prompt = prompt_text(bot)
    assert prompt["channel"] == ROUTED
    assert "Postmortem: Test Incident" in text
    lines = {line.split(" — ")[0]: line for line in text.splitlines() if " — " in line}
    assert "led the response" in lines["• <@U0ALICE>"]
    assert "primary on-call" in lines["• <@U0ALICE>"]
    assert lines["• Oscar Oncall _(no matching Slack user found)_"].endswith(
        "was the primary on-call for the most heavily affected service"
    )
    assert lines["• <@U0TESS>"].endswith("manually triggered the incident to start the response")
    assert "Bob" not in text  # level 2 on-call is not the primary
    assert "false alarm" not in text
    # Alice meets two criteria, so she is offered first.
    assert [b.get("value") for b in buttons(prompt["blocks"])][:2] == ["1|U0ALICE", "1|U0TESS"]
    [oncalls] = pagerduty.calls("/oncalls")
    assert oncalls.query["escalation_policy_ids[]"] == [POLICY]
    assert oncalls.query["since"] == [
        (bot.clock() - timedelta(minutes=50)).isoformat().replace("+00:00", "Z")
    ]
    assert [r.event_type for r in rows(bot, IncidentEventRow)] == [
        "incident.triggered",
        "incident.acknowledged",
        "incident.resolved",
    ]


def test_a_pagerduty_user_whose_slack_account_is_deactivated_or_a_bot_is_not_suggested(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    bot.slack.add_user("U0TESS", "tess@example.com", real_name="Tess Trigger", deleted=True)
    bot.slack.add_user("U0ALICE", "alice@example.com", real_name="Alice", is_bot=True)
    full_incident(bot)

    deliver(bot, resolved(bot), webhook_id="W-3")

    text, prompt = prompt_text(bot)
    # Neither with a button nor by name, as someone Slack did not find: Slack said who they are.
    assert not any(name in text for name in ("Tess", "U0TESS", "Alice", "U0ALICE"))
    assert "• Oscar Oncall _(no matching Slack user found)_" in text  # not in Slack at all
    assert [b.get("value") for b in buttons(prompt["blocks"])] == ["1", None]  # own it; pick


def test_a_redelivered_resolved_webhook_does_not_open_a_second_postmortem(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    payload = resolved(bot)
    deliver(bot, payload, webhook_id="W-SAME")

    again = deliver(bot, payload, webhook_id="W-SAME")

    assert again.status_code == 200
    assert again.json()["outcome"] == "already_open"
    assert len(rows(bot, PostmortemRow)) == 1
    assert len(rows(bot, IncidentEventRow)) == 1
    bot.settle()
    prompts = [m for m in bot.slack.messages(ROUTED) if "Postmortem:" in json.dumps(m)]
    assert len(prompts) == 1


def test_a_second_resolved_event_for_the_same_incident_does_not_open_another(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    deliver(bot, resolved(bot), webhook_id="W-A")
    reopened_and_resolved_again = event("resolved", minutes_ago=1, bot=bot)

    answer = deliver(bot, reopened_and_resolved_again, webhook_id="W-B")

    assert answer.status_code == 200
    assert answer.json() == {
        "ok": True,
        "outcome": "already_open",
        "postmortem_id": 1,
        "channel": ROUTED,
        "state": "awaiting_owner",
    }
    assert len(rows(bot, PostmortemRow)) == 1


def test_a_redelivered_event_is_recorded_once(incident_bot: BotFactory) -> None:
    bot = incident_bot(routes=ROUTES)
    triggered = event("triggered", minutes_ago=30, bot=bot)
    deliver(bot, triggered, webhook_id="W-T")

    answer = deliver(bot, triggered, webhook_id="W-T")

    assert answer.json()["outcome"] == "duplicate"
    assert len(rows(bot, IncidentEventRow)) == 1
    assert {r.delivery_id for r in rows(bot, ProcessedDeliveryRow)} == {
        "webhook:W-T",
        "event:EV-triggered-30",
    }


def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    payload = resolved(bot)
    body = json.dumps(payload).encode()
    wrong = pagerduty_signature("another-secret", body)
    mismatch = vendor_json("pagerduty_v3_signature_vector.json")["mismatch_signature"]

    answers = [
        deliver(bot, body, webhook_id="W-1", signature=wrong),
        deliver(bot, body, webhook_id="W-2", signature=mismatch),
        deliver(bot, body, webhook_id="W-3", signature=None),
        deliver(
            bot,
            body + b" ",
            webhook_id="W-4",
            signature=pagerduty_signature(PAGERDUTY_SECRET, body),
        ),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert "X-PagerDuty-Signature" in answers[0].json()["error"]
    assert rows(bot, PostmortemRow) == []
    assert rows(bot, IncidentEventRow) == []
    assert rows(bot, ProcessedDeliveryRow) == []


def test_a_body_that_is_not_json_or_not_an_event_is_a_400_naming_the_field(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    no_time = resolved(bot)
    del no_time["event"]["occurred_at"]
    bad_service = resolved(bot, service="not a reference")

    garbage = deliver(bot, b"\x00not json{", webhook_id="W-1")
    missing = deliver(bot, no_time, webhook_id="W-2")
    wrong_shape = deliver(bot, bad_service, webhook_id="W-3")
    a_list = deliver(bot, b"[1, 2]", webhook_id="W-4")
    huge_id = deliver(bot, resolved(bot, id="P" * 5000), webhook_id="W-5")

    answers = (garbage, missing, wrong_shape, a_list, huge_id)
    assert [r.status_code for r in answers] == [400] * 5
    assert "event.data.id" in huge_id.json()["error"]
    assert "not JSON" in garbage.json()["error"]
    assert "event.occurred_at" in missing.json()["error"]
    assert "event.data.service" in wrong_shape.json()["error"]
    assert rows(bot, PostmortemRow) == []


def test_an_event_type_it_does_not_handle_is_acknowledged_and_ignored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    service_updated = vendor_json("pagerduty_v3_service_updated_doc.json")

    answer = deliver(bot, service_updated, webhook_id="W-1")

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "ignored"
    assert rows(bot, IncidentEventRow) == []


def test_other_incident_events_are_recorded_as_evidence(incident_bot: BotFactory) -> None:
    bot = incident_bot(routes=ROUTES)
    priority = vendor_json("pagerduty_v3_incident_priority_updated_doc.json")
    reassigned = event("reassigned", minutes_ago=20, bot=bot)

    for webhook_id, payload in (("W-1", priority), ("W-2", reassigned)):
        assert deliver(bot, payload, webhook_id=webhook_id).json()["outcome"] == "recorded"

    stored = {(r.incident_id, r.event_type, r.agent_type) for r in rows(bot, IncidentEventRow)}
    assert stored == {
        ("PGR0VU2", "incident.priority_updated", "user_reference"),
        (INCIDENT, "incident.reassigned", "user_reference"),
    }


def test_unknown_service_without_default_channel_is_stored_unrouted_and_shown_in_status(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    elsewhere = resolved(bot, service={"id": "PUNKNOWN", "type": "service_reference"})

    answer = deliver(bot, elsewhere, webhook_id="W-1")

    assert answer.status_code == 200
    assert answer.json()["channel"] is None
    [stored] = rows(bot, PostmortemRow)
    assert stored.channel_id is None
    status = bot.user("U0ALICE", channel_id="C0ANYWHERE").answer("status")
    assert "no channel" in status
    assert "#1 Test Incident" in status
    assert bot.slack.calls("chat.postMessage") == []


def test_unrouted_incidents_open_in_the_default_channel(incident_bot: BotFactory) -> None:
    bot = incident_bot(routes=ROUTES, default_channel="C0DEFAULT")
    elsewhere = resolved(bot, service={"id": "PUNKNOWN", "type": "service_reference"})

    deliver(bot, elsewhere, webhook_id="W-1")

    assert prompt_text(bot)[1]["channel"] == "C0DEFAULT"


def test_a_team_route_applies_when_no_service_route_matches(incident_bot: BotFactory) -> None:
    routes = ROUTES + "  - {pagerduty_team: PTEAM01, channel: C0TEAM}\n"
    bot = incident_bot(routes=routes, default_channel="C0DEFAULT")
    elsewhere = resolved(
        bot,
        service={"id": "PUNKNOWN", "type": "service_reference"},
        teams=[{"id": "PTEAM01", "type": "team_reference", "summary": "Payments"}],
    )

    deliver(bot, elsewhere, webhook_id="W-1")

    assert prompt_text(bot)[1]["channel"] == "C0TEAM"


def test_without_an_api_token_people_are_named_but_shown_as_unmapped(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    bot = incident_bot(routes=ROUTES)
    bot.slack.add_user("U0ALICE", "alice@example.com")
    full_incident(bot)

    deliver(bot, resolved(bot), webhook_id="W-3")

    text, prompt = prompt_text(bot)
    assert "Alice Assignee _(no matching Slack user found)_ — was initially assigned" in text
    assert "Tess Trigger _(no matching Slack user found)_ — manually triggered" in text
    assert "primary on-call for" not in text.split("Suggested owners")[1]
    assert [b["action_id"] for b in buttons(prompt["blocks"])] == [
        "owner.claim_self",
        "owner.pick_anyone",
    ]
    assert pagerduty.calls() == []


def test_an_incident_triggered_and_resolved_by_automation_is_a_possible_false_alarm(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    monitoring = {"id": SERVICE, "type": "service_reference", "summary": "pig208"}
    deliver(bot, event("triggered", minutes_ago=10, bot=bot, agent=None), webhook_id="W-1")

    answer = deliver(bot, resolved(bot, assignees=[], agent=monitoring), webhook_id="W-2")

    assert answer.json()["outcome"] == "opened"
    [stored] = rows(bot, PostmortemRow)
    assert stored.false_alarm is True
    assert any("possible false alarm" in note for note in stored.notes)
    text, _ = prompt_text(bot)
    assert "Possible false alarm" in text
    assert "manually triggered" not in text.split("Suggested owners")[-1]


def test_a_missed_trigger_is_looked_up_in_pagerduty(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    incident = vendor_json("pagerduty_rest_get_incident_doc.json")["incident"]
    pagerduty.incidents[INCIDENT] = incident
    pagerduty.log_entries[INCIDENT] = vendor_json(
        "pagerduty_rest_get_incident_log_entries_doc.json"
    )["log_entries"]
    pagerduty.add_user("PXPGF42", name="Earline Greenholt", email="earline@example.com")
    bot.slack.add_user("U0EARLINE", "earline@example.com")

    deliver(bot, resolved(bot), webhook_id="W-1")

    text, _ = prompt_text(bot)
    # The documented incident was acknowledged by its assignee; the API triggered it.
    assert "<@U0EARLINE> — was initially assigned to the alert and led the response" in text
    assert "manually triggered" not in text.split("Suggested owners")[-1]
    assert [c.path for c in pagerduty.calls("/incidents")] == [
        f"/incidents/{INCIDENT}",
        f"/incidents/{INCIDENT}/log_entries",
    ]
    [oncalls] = pagerduty.calls("/oncalls")
    assert oncalls.query["since"] == ["2015-10-06T21:30:42Z"]  # the incident's created_at


def test_without_a_webhook_secret_the_endpoint_says_what_to_set(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(pagerduty_webhook_secret=None)

    answer = deliver(bot, resolved(bot), webhook_id="W-1")

    assert answer.status_code == 503
    assert "PAGERDUTY_WEBHOOK_SECRET" in answer.json()["error"]
    assert rows(bot, PostmortemRow) == []


def at(payload: dict[str, Any], occurred_at: str | datetime) -> dict[str, Any]:
    """``payload`` with its event's ``occurred_at`` replaced."""
    if isinstance(occurred_at, datetime):
        occurred_at = occurred_at.isoformat().replace("+00:00", "Z")
    payload["event"]["occurred_at"] = occurred_at
    return payload


def test_an_occurred_at_no_real_event_has_is_a_400_and_nothing_is_stored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    impossible = {
        # The last representable second (a week later overflows): no clock skew is that large.
        "9999-12-31T23:59:59Z": "more than a day in the future",
        (bot.clock() + timedelta(days=2)).isoformat(): "more than a day in the future",
        # Before year 1 once in UTC.
        "0001-01-01T00:30:00+01:00": "before 2000",
        "1999-12-31T23:59:59Z": "before 2000",
    }

    for n, (moment, reason) in enumerate(impossible.items()):
        for kind in ("resolved", "triggered"):
            payload = at(event(kind, minutes_ago=5, bot=bot), moment)
            payload["event"]["id"] = f"EV-{kind}-{n}"

            answer = deliver(bot, payload, webhook_id=f"W-{kind}-{n}")

            assert answer.status_code == 400, (kind, moment)
            assert answer.json()["error"].startswith("event.occurred_at: "), answer.json()
            assert reason in answer.json()["error"]
    assert rows(bot, PostmortemRow) == []
    assert rows(bot, IncidentEventRow) == []
    assert rows(bot, ProcessedDeliveryRow) == []


def test_an_event_ahead_of_our_clock_is_kept_as_happening_now(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    now = bot.clock()
    # PagerDuty's clock is ahead of ours: by minutes (skew), or hours (ours is wrong). The
    # resolution is real all the same: it opens the postmortem, resolved as of our now.
    triggered = at(event("triggered", minutes_ago=0, bot=bot), now + timedelta(minutes=4))
    assert deliver(bot, triggered, webhook_id="W-1").status_code == 200
    later = bot.clock.advance(timedelta(minutes=1))

    answer = deliver(bot, at(resolved(bot), later + timedelta(hours=3)), webhook_id="W-2")

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "opened"
    [postmortem] = rows(bot, PostmortemRow)
    assert postmortem.resolved_at == later
    recorded = sorted(rows(bot, IncidentEventRow), key=lambda r: r.id)
    assert [(r.event_type, r.occurred_at) for r in recorded] == [
        ("incident.triggered", now),
        ("incident.resolved", later),
    ]
    assert "Postmortem: Test Incident" in prompt_text(bot)[0]


def test_nul_characters_in_free_text_are_dropped_and_the_postmortem_still_opens(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    agent = {**person(ALICE), "summary": "Alice\u0000 Assignee"}
    payload = resolved(
        bot,
        agent=agent,
        title="Test\u0000 Incident\u0000",
        priority={"id": "PSEV1", "type": "priority", "summary": "P\u00001"},
    )

    answer = deliver(bot, payload, webhook_id="W-1")

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "opened"
    [postmortem] = rows(bot, PostmortemRow)
    assert (postmortem.title, postmortem.severity) == ("Test Incident", "P1")
    [recorded] = rows(bot, IncidentEventRow)
    assert recorded.agent_name == "Alice Assignee"
    assert recorded.data["title"] == "Test Incident"
    assert "Postmortem: Test Incident" in prompt_text(bot)[0]


def test_an_id_with_a_nul_character_is_a_400_naming_it_and_nothing_is_stored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    nul = "\u0000"
    bad_event_id = resolved(bot)
    bad_event_id["event"]["id"] = f"EV{nul}1"
    bad_type = resolved(bot)
    bad_type["event"]["event_type"] = f"incident.resolved{nul}"
    # An event whose data is not the incident but names it (a note on it, say).
    annotated = event("triggered", minutes_ago=5, bot=bot)
    annotated["event"]["event_type"] = "incident.annotated"
    annotated["event"]["data"] = {"type": "incident_note", "incident": {"id": f"P{nul}X"}}
    cases = [
        ("event.id", bad_event_id),
        ("event.event_type", bad_type),
        ("event.data.id", resolved(bot, id=f"PCP{nul}ZE64")),
        ("event.data.service.id", resolved(bot, service={"id": f"PA2{nul}P440"})),
        ("event.agent.id", resolved(bot, agent={"id": f"PAL{nul}ICE1", "type": "user_reference"})),
        ("event.data.incident.id", annotated),
    ]

    for n, (field, payload) in enumerate(cases):
        answer = deliver(bot, payload, webhook_id=f"W-{n}")

        assert answer.status_code == 400, field
        assert answer.json()["error"].startswith(f"{field}: "), answer.json()
        assert "NUL" in answer.json()["error"]
    assert rows(bot, PostmortemRow) == []
    assert rows(bot, IncidentEventRow) == []
    assert rows(bot, ProcessedDeliveryRow) == []


def test_an_event_delivered_after_the_resolution_adds_the_people_it_names(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    # PagerDuty delivers out of order, and retries a failed delivery for 48 hours: the
    # trigger can arrive after the resolution opened the postmortem.
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    assert deliver(bot, resolved(bot), webhook_id="W-RESOLVED").json()["outcome"] == "opened"
    bot.settle()
    [prompt] = bot.slack.calls("chat.postMessage")
    assert "U0TESS" not in json.dumps(prompt.params["blocks"])

    late = event("triggered", minutes_ago=50, bot=bot, agent=person(TESS))
    answer = deliver(bot, late, webhook_id="W-TRIGGERED-RETRIED")
    again = deliver(bot, late, webhook_id="W-TRIGGERED-RETRIED")
    bot.settle()

    assert answer.json() == {
        "ok": True,
        "outcome": "recorded",
        "postmortem_id": 1,
        "channel": ROUTED,
        "state": "awaiting_owner",
    }
    assert again.json()["outcome"] == "duplicate"
    [refresh] = bot.slack.calls("chat.update")
    assert refresh.params["ts"] == rows(bot, PostmortemRow)[0].prompt_ts
    tess = next(b for b in buttons(refresh.params["blocks"]) if b.get("value") == "1|U0TESS")
    assert tess["text"]["text"] == "Assign Tess Trigger"
    assert "manually triggered the incident" in block_text(refresh.params["blocks"])


def resolved_incident_in_its_channel(incident_bot: BotFactory) -> BotHarness:
    """Tess triggered it, Alice acknowledged and resolved it: its postmortem is in ROUTED."""
    bot = incident_bot(routes=ROUTES)
    full_incident(bot)
    deliver(bot, resolved(bot), webhook_id="W-3")
    bot.settle()
    return bot


def document_forms(bot: BotHarness, *users: str) -> list[dict[str, Any]]:
    """The document form each of ``users`` opens in ROUTED, in turn."""
    forms = []
    for user in users:
        opened = len(bot.slack.calls("views.open"))
        assert bot.user(user, channel_id=ROUTED).answer("document") == ""
        forms.append(bot.slack.wait_for("views.open", count=opened + 1)[-1].params["view"])
    return forms


def stored_document(bot: BotHarness) -> Document:
    document = bot.runtime.documents.for_form(channel_id=ROUTED)[1]
    assert document is not None
    return document


def timeline_shown(view: dict[str, Any]) -> str | None:
    [timeline] = [b for b in view["blocks"] if b.get("block_id") == "document.timeline"]
    shown: str | None = timeline["element"].get("initial_value")
    return shown


def test_the_document_form_offers_a_timeline_drafted_from_pagerdutys_events(
    incident_bot: BotFactory,
) -> None:
    bot = resolved_incident_in_its_channel(incident_bot)

    [form] = document_forms(bot, "U0ALICE")
    bot.user("U0ALICE", channel_id=ROUTED).submit_view(
        filled(form, summary="Checkout failed for 40 minutes.")
    )
    bot.settle()
    [reopened] = document_forms(bot, "U0ALICE")

    draft = (
        "2026-11-24 13:10 UTC — Triggered by Tess Trigger\n"
        "2026-11-24 13:15 UTC — Acknowledged by Alice Assignee\n"
        "2026-11-24 13:55 UTC — Resolved by Alice Assignee"
    )
    assert timeline_shown(form) == draft
    assert "The timeline is drafted from what the incident's tools recorded" in block_text(
        form["blocks"]
    )
    # Saved with the form, as Alice's; from then on it is the document's own text.
    assert stored_document(bot).text(Section.TIMELINE) == draft
    assert timeline_shown(reopened) == draft
    assert "drafted" not in block_text(reopened["blocks"])


def test_a_drafted_timeline_left_as_offered_gives_way_to_one_saved_meanwhile(
    incident_bot: BotFactory,
) -> None:
    bot = resolved_incident_in_its_channel(incident_bot)
    alices, bobs = document_forms(bot, "U0ALICE", "U0BOB")

    bot.user("U0BOB", channel_id=ROUTED).submit_view(
        filled(bobs, timeline="13:10 alert fired; 13:20 rolled back")
    )
    answer = bot.user("U0ALICE", channel_id=ROUTED).submit_view(
        filled(alices, summary="Checkout failed for 40 minutes.")
    )

    assert errors(answer) == {}  # her form left the draft as offered: no conflict to show
    document = stored_document(bot)
    assert document.text(Section.TIMELINE) == "13:10 alert fired; 13:20 rolled back"
    assert document.text(Section.SUMMARY) == "Checkout failed for 40 minutes."


def test_a_drafted_timeline_edited_while_someone_else_saved_it_untouched_is_kept(
    incident_bot: BotFactory,
) -> None:
    bot = resolved_incident_in_its_channel(incident_bot)
    alices, bobs = document_forms(bot, "U0ALICE", "U0BOB")
    edited = f"{timeline_shown(alices)}\n13:20 UTC — rolled back the deploy"

    bot.user("U0BOB", channel_id=ROUTED).submit_view(
        filled(bobs, summary="Checkout failed for 40 minutes.")  # the draft left untouched
    )
    answer = bot.user("U0ALICE", channel_id=ROUTED).submit_view(filled(alices, timeline=edited))

    assert errors(answer) == {}  # Bob's save stored the draft Alice started from
    document = stored_document(bot)
    assert document.text(Section.TIMELINE) == edited
    assert document.text(Section.SUMMARY) == "Checkout failed for 40 minutes."
