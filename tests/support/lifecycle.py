"""Steps the lifecycle tests share: an owned postmortem, the schedule form as Slack sends it
back, and what the bot posted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.bootstrap import Runtime
from bot.domain.postmortem import IncidentReport
from tests.conftest import BotHarness
from tests.support.clock import FakeClock
from tests.support.slack_user import buttons


def owned_by_bob(bot: BotHarness) -> None:
    """Alice starts "Checkout errors"; Bob claims it from the prompt."""
    bot.user("U0ALICE").answer("start Checkout errors")
    value = buttons(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])[0]["value"]
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": value})
    bot.slack.wait_for("chat.update")
    bot.settle()


def held_by_bob(bot: BotHarness) -> None:
    """``owned_by_bob``, then Bob schedules the meeting two days out and holds it."""
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))
    bot.clock.advance(timedelta(days=2, hours=1))
    bot.user("U0BOB").answer("held")


def completed_by_bob(bot: BotHarness) -> str:
    """``held_by_bob``, then Bob is done; returns the answer to his `done`."""
    held_by_bob(bot)
    return bot.user("U0BOB").answer("done")


def opened_form(bot: BotHarness) -> dict[str, Any]:
    """The schedule form the bot opened last."""
    return dict(bot.slack.wait_for("views.open")[-1].params["view"])


def submitted(
    view: dict[str, Any], *, at: datetime, why: str | None = None, people: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``view`` as Slack sends it back once the person chose ``at`` (and wrote ``why``)."""
    return {
        **view,
        "id": "V0SCHEDULE",
        "state": {
            "values": {
                "meeting_time": {
                    "meeting_time": {
                        "type": "datetimepicker",
                        "selected_date_time": int(at.timestamp()),
                    }
                },
                "meeting_participants": {
                    "meeting_participants": {
                        "type": "multi_users_select",
                        "selected_users": list(people),
                    }
                },
                "meeting_justification": {
                    "meeting_justification": {"type": "plain_text_input", "value": why}
                },
            }
        },
    }


def schedule_form(
    bot: BotHarness, *, after: timedelta, why: str | None = None, people: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The opened schedule form, filled in with a time ``after`` from now."""
    return submitted(opened_form(bot), at=bot.clock() + after, why=why, people=people)


def schedule_at(bot: BotHarness, at: datetime, *, why: str | None = None) -> None:
    """Bob schedules the meeting at ``at`` through the form, accepted; its messages sent."""
    bot.user("U0BOB").answer("schedule")
    assert errors(bot.user("U0BOB").submit_view(submitted(opened_form(bot), at=at, why=why))) == {}
    bot.settle()


def errors(response: httpx.Response) -> dict[str, str]:
    """The inline errors a form submission was answered with (none: ``{}``)."""
    assert response.status_code == 200, response.text
    body = response.json() if response.content else {}
    return dict(body.get("errors") or {})


def posted(bot: BotHarness, kind: str) -> list[dict[str, Any]]:
    """Every chat.postMessage of one message kind, oldest first."""
    return [
        c.params
        for c in bot.slack.calls("chat.postMessage")
        if c.params["metadata"]["event_payload"]["kind"] == kind
    ]


def open_many(runtime: Runtime, clock: FakeClock, count: int) -> None:
    """``count`` postmortems, each in its own channel: an owner prompt each to send."""
    for n in range(count):
        runtime.postmortems.open_postmortem(
            report=IncidentReport(
                key=f"k{n}", title=f"Outage {n}", source="slack", resolved_at=clock()
            ),
            channel_id=f"C0BURST{n:03}",
            opened_by="U0ALICE",
        )
