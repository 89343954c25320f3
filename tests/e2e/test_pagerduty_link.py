"""`/postmortem start` with a PagerDuty incident's link: one incident, one postmortem.

A team that starts the postmortem by hand in the incident's own channel and also has
PagerDuty's webhook open one in the service's channel would otherwise get two prompts, two
owners: the bystander problem the bot exists to prevent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.persistence.tables import PostmortemRow
from tests.conftest import BotFactory, BotHarness
from tests.e2e.test_pagerduty_webhook import INCIDENT, ROUTED, ROUTES, deliver, resolved
from tests.e2e.test_start_form import form

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
