"""``POST /webhooks/grafana-oncall``: a Grafana OnCall outgoing webhook with Forward All on,
replayed from Grafana's documented payload.

The payload is the sample in ``shared/vendor-payloads`` (Grafana OnCall's docs: the whole
template context, which is the body once Forward All is on). It is from 2023, so the tests
replay a *copy* whose times are moved to just before the test's FakeClock (``recent``):
every timestamp of the alert group and the event is shifted by the same amount, so their
order and gaps are Grafana's. Grafana publishes no sample for other event types; the tests
that need one change ``event.type`` in the copy, and say so.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import INCIDENT_SECRET
from tests.e2e.test_opsgenie_webhook import LED_RESPONSE, nothing_posted, post
from tests.support.slack_user import block_text
from tests.support.vendor import vendor_json
from tests.support.webhooks import opened_with_prompt, stored

PATH = "/webhooks/grafana-oncall"
RESOLVE = "grafana_oncall_outgoing_webhook_resolve_doc.json"
GROUP_ID = "I6HNZGUFG4K11"  # the sample's alert group
# Documented event types other than "resolve" (Grafana OnCall's outgoing webhook docs).
NOT_RESOLVING = (
    "escalation",
    "personal notification",
    "alert group created",
    "acknowledge",
    "silence",
    "unsilence",
    "unresolve",
    "unacknowledge",
    "status change",
)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def recent(bot: BotHarness, *, ago: timedelta = timedelta(minutes=5)) -> dict[str, Any]:
    """A copy of the documented ``resolve``, resolved ``ago`` before the test's clock."""
    payload: dict[str, Any] = copy.deepcopy(vendor_json(RESOLVE))
    group = payload["alert_group"]
    shift = bot.clock() - ago - datetime.fromisoformat(group["resolved_at"])
    for key in ("created_at", "resolved_at", "acknowledged_at"):
        group[key] = iso(datetime.fromisoformat(group[key]) + shift)
    payload["event"]["time"] = (
        datetime.fromisoformat(payload["event"]["time"]) + shift
    ).isoformat()
    return payload


def send(bot: BotHarness, payload: dict[str, Any] | bytes, **options: Any) -> Any:
    return post(bot, payload, path=PATH, **options)


# -- a resolve opens the postmortem ------------------------------------------------------------


def test_a_resolved_alert_group_opens_a_postmortem_with_who_acknowledged_it_as_candidate(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0ADMIN", "admin@localhost")  # the sample's acknowledger

    answer = send(bot, recent(bot), channel="C0ONCALL")

    text, values = opened_with_prompt(bot, answer, channel="C0ONCALL")
    assert "Postmortem: Incident" in text
    assert f"<@U0ADMIN> — {LED_RESPONSE}" in text
    assert values[:1] == ["1|U0ADMIN"]
    [row] = stored(bot)
    assert (row.incident_key, row.source, row.title) == (
        f"grafana-oncall:{GROUP_ID}",
        "grafana-oncall",
        "Incident",
    )
    assert row.resolved_at == bot.clock() - timedelta(minutes=5)
    assert row.severity is None  # the sample's labels have no severity


def test_an_acknowledger_slack_does_not_know_is_listed_by_their_username(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    assert send(bot, recent(bot), channel="C0ONCALL").status_code == 201

    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert f"admin _(no matching Slack user found)_ — {LED_RESPONSE}" in text


def test_a_group_nobody_acknowledged_suggests_no_one_for_leading_the_response(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    bot.slack.add_user("U0ADMIN", "admin@localhost")
    resolve = recent(bot)
    # Resolved by its integration without an acknowledgement.
    resolve["alert_group_acknowledged_by"] = None
    resolve["alert_group"]["acknowledged_at"] = None

    assert send(bot, resolve, channel="C0ONCALL").status_code == 201

    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "Postmortem: Incident" in text
    assert LED_RESPONSE not in text


def test_without_resolved_at_the_events_time_is_used(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    resolve = recent(bot)
    resolve["alert_group"]["resolved_at"] = None
    resolve["event"]["time"] = (bot.clock() - timedelta(minutes=3)).isoformat()

    assert send(bot, resolve).status_code == 201

    [row] = stored(bot)
    assert row.resolved_at == bot.clock() - timedelta(minutes=3)


def test_a_severity_label_is_the_severity(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    on_group = recent(bot)
    on_group["alert_group"]["labels"]["severity"] = "critical"
    on_alert = recent(bot)
    on_alert["alert_group"]["id"] = "IALERTLABEL"
    on_alert["alert_payload"]["labels"]["severity"] = "warning"

    assert send(bot, on_group, channel="C0ONCALL").status_code == 201
    assert send(bot, on_alert, channel="C0ONCALL").status_code == 201

    assert [(r.incident_key, r.severity) for r in stored(bot)] == [
        (f"grafana-oncall:{GROUP_ID}", "critical"),
        ("grafana-oncall:IALERTLABEL", "warning"),
    ]
    text = block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])
    assert "severity *critical*" in text


def test_an_empty_title_still_opens_a_postmortem_named_after_the_group(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    resolve = recent(bot)
    resolve["alert_group"]["title"] = "   "

    assert send(bot, resolve).status_code == 201

    [row] = stored(bot)
    assert row.title == f"Grafana OnCall alert group {GROUP_ID}"


# -- what does not open one --------------------------------------------------------------------


def test_every_other_event_type_is_ignored_and_stores_nothing(incident_bot: BotFactory) -> None:
    bot = incident_bot()
    answers = {}
    for event_type in NOT_RESOLVING:
        payload = recent(bot)
        payload["event"]["type"] = event_type  # no published sample of these: the resolve's
        answers[event_type] = send(bot, payload)
    # Ignored as soon as the type is read, whatever else the body holds.
    odd = send(bot, {"event": {"type": "acknowledge"}, "alert_group": None})

    for event_type, answer in answers.items():
        assert answer.status_code == 200, event_type
        body = answer.json()
        assert (body["ok"], body["outcome"]) == (True, "ignored"), event_type
        assert event_type in body["reason"]
    assert (odd.status_code, odd.json()["outcome"]) == (200, "ignored")
    assert stored(bot) == []
    assert nothing_posted(bot)


def test_resolving_the_same_group_again_opens_no_second_postmortem(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    first = send(bot, recent(bot, ago=timedelta(minutes=30)), channel="C0ONCALL")
    # Unresolved, then resolved again: the same alert group id.
    again = send(bot, recent(bot, ago=timedelta(minutes=1)), channel="C0ONCALL")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {
        "ok": True,
        "outcome": "already_open",
        "postmortem_id": 1,
        "channel": "C0ONCALL",
        "state": "awaiting_owner",
    }
    [row] = stored(bot)
    assert row.resolved_at == bot.clock() - timedelta(minutes=30)
    bot.settle()
    assert len(bot.slack.calls("chat.postMessage")) == 1


def test_a_redelivery_naming_a_channel_moves_an_unrouted_postmortem_there(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    first = send(bot, recent(bot))

    again = send(bot, recent(bot), channel="C0ONCALL")

    assert (first.status_code, first.json()["channel"]) == (201, None)
    assert (again.status_code, again.json()["outcome"]) == (200, "already_open")
    assert again.json()["channel"] == "C0ONCALL"
    assert bot.slack.wait_for("chat.postMessage")[0].params["channel"] == "C0ONCALL"


# -- authentication and channel ----------------------------------------------------------------


def test_a_wrong_or_missing_bearer_token_is_refused_and_nothing_is_stored(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()

    wrong = send(bot, recent(bot), token="not-the-secret")
    missing = send(bot, recent(bot), token=None)

    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert "Authorization: Bearer" in missing.json()["error"]
    assert stored(bot) == []
    assert nothing_posted(bot)


def test_without_a_secret_the_endpoint_says_what_to_set(incident_bot: BotFactory) -> None:
    bot = incident_bot(incident_webhook_secret=None)

    answer = send(bot, recent(bot))

    assert answer.status_code == 503
    assert "INCIDENT_WEBHOOK_SECRET" in answer.json()["error"]
    assert stored(bot) == []


def test_the_channel_on_the_url_or_else_the_default_channel(incident_bot: BotFactory) -> None:
    bot = incident_bot(default_channel="C0DEFAULT")
    other = recent(bot)
    other["alert_group"]["id"] = "IOTHER"

    bad = send(bot, recent(bot), channel="oncall")
    default = send(bot, recent(bot))
    given = send(bot, other, channel="C0ONCALL")

    assert bad.status_code == 400
    assert bad.json()["error"].startswith("channel (query parameter): ")
    assert (default.status_code, default.json()["channel"]) == (201, "C0DEFAULT")
    assert (given.status_code, given.json()["channel"]) == (201, "C0ONCALL")
    assert [(r.incident_key, r.channel_id) for r in stored(bot)] == [
        (f"grafana-oncall:{GROUP_ID}", "C0DEFAULT"),
        ("grafana-oncall:IOTHER", "C0ONCALL"),
    ]


# -- bad input --------------------------------------------------------------------------------


def test_a_resolve_that_cannot_be_used_is_a_400_naming_the_field(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    now = bot.clock()

    def without(*path: str) -> dict[str, Any]:
        payload = recent(bot)
        *parents, last = path
        holder = payload
        for key in parents:
            holder = holder[key]
        del holder[last]
        return payload

    def with_group(**changes: Any) -> dict[str, Any]:
        payload = recent(bot)
        payload["alert_group"].update(changes)
        return payload

    no_times = with_group(resolved_at=None)
    del no_times["event"]["time"]
    cases: list[tuple[str, dict[str, Any] | bytes, str]] = [
        ("not JSON", b"{", "the body is not JSON"),
        ("a string", b'"resolve"', "(body): must be a JSON object"),
        ("no event", without("event"), "event: Field required"),
        ("no event type", without("event", "type"), "event.type: Field required"),
        ("no alert group", without("alert_group"), "alert_group: Field required"),
        ("no group id", without("alert_group", "id"), "alert_group.id: Field required"),
        ("numeric group id", with_group(id=42), "alert_group.id: "),
        ("NUL in group id", with_group(id="I6\u0000"), "alert_group.id: "),
        ("no title", without("alert_group", "title"), "alert_group.title: Field required"),
        ("no times", no_times, "alert_group.resolved_at: Field required"),
        ("no zone", with_group(resolved_at="2026-11-24T13:00:00"), "alert_group.resolved_at: "),
        ("a number", with_group(resolved_at=1700000000), "alert_group.resolved_at: "),
        (
            "before 2000",
            with_group(resolved_at="1999-12-31T23:59:59Z"),
            "alert_group.resolved_at: Value error, is before 2000",
        ),
        (
            "days ahead",
            with_group(resolved_at=iso(now + timedelta(days=2))),
            "alert_group.resolved_at: Value error, is more than a day in the future",
        ),
    ]

    for name, body, error in cases:
        answer = send(bot, body)

        assert answer.status_code == 400, name
        assert answer.json()["ok"] is False
        assert answer.json()["error"].startswith(error), (name, answer.json())
    assert stored(bot) == []
    assert nothing_posted(bot)


def test_any_of_the_secrets_being_rotated_is_accepted(incident_bot: BotFactory) -> None:
    bot = incident_bot(incident_webhook_secret=f"other-secret,{INCIDENT_SECRET}")

    answer = send(bot, recent(bot), token="other-secret")

    assert answer.status_code == 201


def test_a_data_template_body_says_to_turn_forward_all_on(incident_bot: BotFactory) -> None:
    bot = incident_bot()

    answer = send(bot, {"title": "{{ alert_group.title }}", "state": "resolved"})

    assert answer.status_code == 400
    assert "turn Forward All on" in answer.json()["error"]
    assert stored(bot) == []
