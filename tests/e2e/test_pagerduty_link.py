"""`/postmortem start` with a PagerDuty incident's link: one incident, one postmortem.

A team that starts the postmortem by hand in the incident's own channel and also has
PagerDuty's webhook open one in the service's channel would otherwise get two prompts, two
owners: the bystander problem the bot exists to prevent.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import select

from bot.devtools.pagerduty_standin import PagerDutyStandIn
from bot.domain.postmortem import IncidentReport
from bot.persistence.tables import PostmortemRow
from bot.services.incidents import LOOKUP_SECONDS
from bot.webhooks.pagerduty import parse_event
from tests.conftest import BotFactory, BotHarness
from tests.e2e.conftest import PAGERDUTY_TOKEN
from tests.e2e.test_pagerduty_webhook import (
    INCIDENT,
    ROUTED,
    ROUTES,
    arrange_people,
    deliver,
    event,
    full_incident,
    resolved,
)
from tests.e2e.test_start_form import form
from tests.support.slack_user import SlackUser, block_text, buttons

INCIDENT_CHANNEL = "C0INC0042"
LINK = f"https://acme.pagerduty.com/incidents/{INCIDENT}"


def postmortems(bot: BotHarness) -> list[Any]:
    with bot.runtime.engine.connect() as connection:
        return list(connection.execute(select(PostmortemRow).order_by(PostmortemRow.id)))


def prompt_channels(bot: BotHarness) -> list[str]:
    return [
        c.params["channel"]
        for c in bot.slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == "owner_prompt"
    ]


def test_a_start_with_the_link_makes_the_webhook_find_it_instead_of_opening_another(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    alice = bot.user("U0ALICE", channel_id=INCIDENT_CHANNEL)

    answer = alice.answer(f"start <{LINK}> Checkout errors")
    webhook = deliver(bot, resolved(bot), webhook_id="W-LATE")
    bot.settle()

    assert answer.startswith("Opened postmortem #1.")
    assert f"PagerDuty incident {INCIDENT}'s" in answer
    assert webhook.status_code == 200, webhook.text
    assert webhook.json()["outcome"] == "already_open"
    [row] = postmortems(bot)
    assert (row.incident_key, row.channel_id, row.title) == (
        f"pagerduty:{INCIDENT}",
        INCIDENT_CHANNEL,
        "Checkout errors",
    )
    assert prompt_channels(bot) == [INCIDENT_CHANNEL]


def test_a_start_with_the_link_of_an_incident_the_webhook_opened_points_there(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    assert deliver(bot, resolved(bot), webhook_id="W-FIRST").json()["outcome"] == "opened"
    bot.settle()
    alice = bot.user("U0ALICE", channel_id=INCIDENT_CHANNEL)

    with_title = alice.answer(f"start <{LINK}> Checkout errors")
    without_title = alice.answer(f"start {LINK}")
    bot.settle()

    for answer in (with_title, without_title):
        assert f"PagerDuty incident {INCIDENT} already has postmortem *#1" in answer
        assert f"<#{ROUTED}>" in answer
        assert "did not open another" in answer
        assert f"`/postmortem status #1` in <#{ROUTED}> shows where it stands" in answer
    assert bot.slack.calls("views.open") == []  # no form for an incident that has its postmortem
    assert len(postmortems(bot)) == 1
    assert prompt_channels(bot) == [ROUTED]


def test_a_start_with_the_link_of_an_unrouted_incident_says_how_to_bring_it_here(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()  # no route, no default channel: the webhook's postmortem has none
    assert deliver(bot, resolved(bot), webhook_id="W-FIRST").json()["outcome"] == "opened"

    answer = bot.user("U0ALICE", channel_id=INCIDENT_CHANNEL).answer(f"start <{LINK}> Outage")

    assert "in no channel yet: `/postmortem move #1` brings it here" in answer
    assert len(postmortems(bot)) == 1


def test_the_link_alone_opens_the_form_with_it_filled_in_and_the_form_links_the_incident(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    alice = bot.user("U0ALICE")

    assert alice.command(f"start <{LINK}>").status_code == 200
    view = bot.slack.wait_for("views.open")[0].params["view"]
    [field] = [b for b in view["blocks"] if b["block_id"] == "pagerduty_incident"]
    assert field["element"]["initial_value"] == LINK

    submitted = alice.submit_view(form(title="Checkout errors", pagerduty_link=LINK))
    webhook = deliver(bot, resolved(bot), webhook_id="W-LATE")
    bot.settle()

    assert submitted.status_code == 200
    assert submitted.content in (b"", b"null") or submitted.json() == {}
    assert webhook.json()["outcome"] == "already_open"
    [row] = postmortems(bot)
    assert (row.incident_key, row.channel_id) == (f"pagerduty:{INCIDENT}", "C0INCIDENT")
    assert prompt_channels(bot) == ["C0INCIDENT"]


def test_the_form_refuses_a_link_that_is_not_a_pagerduty_incident_inline(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)

    response = bot.user("U0ALICE").submit_view(
        form(pagerduty_link="https://acme.pagerduty.com/services/PSVC1")
    )

    assert response.status_code == 200
    errors = response.json()["errors"]
    assert list(errors) == ["pagerduty_incident"]
    assert "https://your-account.pagerduty.com/incidents/" in errors["pagerduty_incident"]
    assert postmortems(bot) == []


def test_the_form_names_the_postmortem_a_linked_incident_already_has(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    assert deliver(bot, resolved(bot), webhook_id="W-FIRST").json()["outcome"] == "opened"

    response = bot.user("U0ALICE").submit_view(form(pagerduty_link=LINK))

    assert response.status_code == 200
    assert response.json()["errors"] == {
        "pagerduty_incident": "This incident already has postmortem #1 Test Incident, "
        "in another channel: follow it there."
    }
    assert len(postmortems(bot)) == 1


def test_pagerdutys_people_join_the_candidates_of_a_postmortem_started_with_the_link(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    full_incident(bot)  # Tess triggered it; Alice was assigned and acknowledged it
    carol = bot.user("U0CAROL", channel_id=INCIDENT_CHANNEL)
    assert carol.answer(f"start <{LINK}> Checkout errors").startswith("Opened postmortem #1.")
    bot.settle()
    [prompt] = bot.slack.calls("chat.postMessage")
    assert buttons(prompt.params["blocks"])[0]["action_id"] == "owner.claim_self"  # nobody named

    webhook = deliver(bot, resolved(bot), webhook_id="W-RESOLVED")  # Alice resolved it
    bot.settle()

    assert webhook.json()["outcome"] == "already_open"
    # Shown again with PagerDuty's people, then with its resolution time (the last one wins).
    refreshes = bot.slack.calls("chat.update")
    assert {(r.params["channel"], r.params["ts"]) for r in refreshes} == {
        (INCIDENT_CHANNEL, prompt_ts(bot))
    }
    refresh = refreshes[-1]
    text = block_text(refresh.params["blocks"])
    assert "Postmortem: Checkout errors" in text
    assert [b.get("value") for b in buttons(refresh.params["blocks"])][:2] == [
        "1|U0ALICE",
        "1|U0TESS",
    ]
    assert prompt_channels(bot) == [INCIDENT_CHANNEL]  # shown again in place, not posted twice
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert trail[-2:] == ["candidates_added", "details_corrected"]  # its resolution time


def test_pagerdutys_people_do_not_replace_an_owner_already_chosen(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    carol = bot.user("U0CAROL", channel_id=INCIDENT_CHANNEL)
    carol.answer(f"start <{LINK}> Checkout errors")
    bot.settle()
    [prompt] = bot.slack.calls("chat.postMessage")
    claim = next(
        b for b in buttons(prompt.params["blocks"]) if b["action_id"] == "owner.claim_self"
    )
    carol.click(claim, message_ts=prompt_ts(bot))
    bot.settle()

    full_incident(bot)
    assert deliver(bot, resolved(bot), webhook_id="W-RESOLVED").json()["outcome"] == "already_open"
    bot.settle()

    [owned] = bot.slack.calls("chat.update")  # the owner's announcement only
    assert "<@U0CAROL>" in owned.params["text"]
    [row] = postmortems(bot)
    assert (row.owner_id, row.candidates) == ("U0CAROL", [])


def prompt_ts(bot: BotHarness) -> str:
    [row] = postmortems(bot)
    assert row.prompt_ts is not None
    return str(row.prompt_ts)


def test_pagerdutys_people_are_kept_when_a_start_with_the_link_lands_during_the_look_ups(
    incident_bot: BotFactory, pagerduty: PagerDutyStandIn
) -> None:
    bot = incident_bot(routes=ROUTES, pagerduty_api_token=PAGERDUTY_TOKEN)
    arrange_people(bot, pagerduty)
    full_incident(bot)
    bot.slack.delay("users.lookupByEmail", LOOKUP_SECONDS * 2 / 3)
    carol = bot.user("U0CAROL", channel_id=INCIDENT_CHANNEL)

    with ThreadPoolExecutor(max_workers=1) as sender:
        webhook = sender.submit(deliver, bot, resolved(bot), webhook_id="W-RESOLVED")
        bot.slack.wait_for("users.lookupByEmail")  # the webhook is looking people up
        started = carol.answer(f"start <{LINK}> Checkout errors")
        answer = webhook.result(timeout=10)
    bot.settle()

    assert started.startswith("Opened postmortem #1.")
    assert answer.json()["outcome"] == "already_open"
    [row] = postmortems(bot)
    assert {c["slack_user_id"] for c in row.candidates} >= {"U0ALICE", "U0TESS"}
    assert prompt_channels(bot) == [INCIDENT_CHANNEL]


def started_with_the_link(incident_bot: BotFactory) -> tuple[BotHarness, SlackUser]:
    """Alice starts "Checkout errors" with the incident's link, at the test clock's now."""
    bot = incident_bot(routes=ROUTES)
    alice = bot.user("U0ALICE", channel_id=INCIDENT_CHANNEL)
    assert alice.answer(f"start <{LINK}> Checkout errors").startswith("Opened postmortem #1.")
    bot.settle()
    return bot, alice


def channel_texts(bot: BotHarness) -> list[str]:
    return [m.get("text", "") for m in bot.slack.messages(INCIDENT_CHANNEL)]


def test_pagerdutys_resolution_time_replaces_the_moment_a_start_with_the_link_took(
    incident_bot: BotFactory,
) -> None:
    # `/postmortem start <link> <title>` asks nobody when it was resolved, so it took the
    # moment it was typed; typed on Monday for a Friday-night incident, the team would gain
    # three days on "meet within a week", and every nudge would count from Monday.
    bot, alice = started_with_the_link(incident_bot)
    six_hours_earlier = event("resolved", minutes_ago=360, bot=bot)

    webhook = deliver(bot, six_hours_earlier, webhook_id="W-RESOLVED")
    again = deliver(bot, six_hours_earlier, webhook_id="W-RESOLVED")  # PagerDuty retries
    bot.settle()

    assert webhook.json()["outcome"] == "already_open"
    assert again.json()["outcome"] == "already_open"
    [row] = postmortems(bot)
    assert row.resolved_at.replace(tzinfo=UTC) == bot.clock() - timedelta(hours=6)
    assert row.severity == "high urgency"  # nobody gave one; PagerDuty's is kept
    [told] = [t for t in channel_texts(bot) if "PagerDuty resolved the incident" in t]
    assert told.startswith(
        ":pencil2: PagerDuty resolved the incident: it corrected postmortem #1 *Checkout errors*:"
    )
    assert "• Severity: high urgency (was none)" in told
    [resolved_line] = [line for line in told.splitlines() if line.startswith("• Resolved: ")]
    assert "|2026-11-24 08:00 UTC> (was " in resolved_line
    assert resolved_line.endswith("|2026-11-24 14:00 UTC>)")
    assert told.endswith(
        "The meeting is now due by "
        "<!date^1796112000^{date_short_pretty} at {time}|2026-12-01 08:00 UTC>."
    )
    assert "2026-12-01 08:00 UTC" in alice.answer("status")
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [(who, what) for _, who, what in trail].count(("pagerduty", "details_corrected")) == 1


def test_a_resolution_time_a_person_gave_is_kept_when_pagerduty_resolves_the_incident(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot(routes=ROUTES)
    given = bot.clock() - timedelta(hours=2)
    alice = bot.user("U0ALICE")
    alice.submit_view(form(pagerduty_link=LINK, resolved_epoch=int(given.timestamp())))
    bot.settle()

    deliver(bot, event("resolved", minutes_ago=360, bot=bot), webhook_id="W-RESOLVED")
    bot.settle()

    [row] = postmortems(bot)
    assert row.resolved_at.replace(tzinfo=UTC) == given
    assert row.severity == "SEV2"
    assert not [t for t in channel_texts(bot) if "PagerDuty resolved" in t]


def test_a_start_without_a_resolution_time_stores_the_very_moment_it_opened(
    incident_bot: BotFactory,
) -> None:
    # The listener's clock is read a moment before the service's: stored as given, the two
    # would differ by microseconds, and PagerDuty's time would never replace the assumed one.
    bot = incident_bot(routes=ROUTES)
    report = IncidentReport(
        key="slack:C0INC0042:T1",
        title="Checkout errors",
        source="slack",
        resolved_at=bot.clock() - timedelta(microseconds=5),
        resolved_when_opened=True,
    )

    opened = bot.runtime.postmortems.open_postmortem(
        report=report, channel_id=INCIDENT_CHANNEL, opened_by="U0ALICE"
    ).postmortem

    assert opened.resolved_at == opened.opened_at == bot.clock()
    assert opened.resolution_taken_as_opening


def test_pagerdutys_resolution_time_is_taken_from_a_redelivery_if_the_first_was_cut_short(
    incident_bot: BotFactory,
) -> None:
    # The event is recorded, then the time taken, in two steps: a process stopped between
    # them left only PagerDuty's redelivery (a "duplicate") to take it from.
    bot, _ = started_with_the_link(incident_bot)
    six_hours_earlier = event("resolved", minutes_ago=360, bot=bot)
    parsed = parse_event(json.dumps(six_hours_earlier).encode(), now=bot.clock())
    assert not isinstance(parsed, str)
    bot.runtime.incidents.record_pagerduty_event(event=parsed, webhook_id="W-RESOLVED")

    again = deliver(bot, six_hours_earlier, webhook_id="W-RESOLVED")
    bot.settle()

    assert again.json()["outcome"] == "already_open"
    [row] = postmortems(bot)
    assert row.resolved_at.replace(tzinfo=UTC) == bot.clock() - timedelta(hours=6)
    assert row.severity is None  # from the first delivery only
