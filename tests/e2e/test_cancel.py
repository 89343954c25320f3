"""`/postmortem cancel <why>`: a postmortem opened by mistake or twice is closed, with its
reason, and stops reminding anyone; a false alarm is still reviewed.

Through the real HTTP app, the outbox pump and the Slack stand-in, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.persistence.db import create_session_factory
from bot.persistence.tables import AuditEventRow
from bot.persistence.uow import UnitOfWork
from tests.conftest import BotFactory, BotHarness
from tests.e2e.test_action_item_reminders import DUE_DAY_IN_NEW_YORK, at, with_an_item_for_dan
from tests.e2e.test_document import add_action_item
from tests.e2e.test_owner_workflow import rows
from tests.support.lifecycle import (
    completed_by_bob,
    opened_form,
    owned_by_bob,
    posted,
    schedule_form,
    submitted,
)
from tests.support.slack_user import buttons

REASON = "opened twice: #2 is this incident's"


def kinds_posted(bot: BotHarness) -> list[str]:
    return [
        c.params["metadata"]["event_payload"]["kind"] for c in bot.slack.calls("chat.postMessage")
    ]


def test_the_owner_cancels_with_a_reason_the_channel_hears_it_and_no_reminder_follows(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    sent_before = len(kinds_posted(bot))

    answer = bot.user("U0BOB").answer(f"cancel {REASON}")
    bot.settle()
    for _ in range(10):  # ten days: the owner's nudges, the reminders, the escalation
        bot.clock.advance(timedelta(days=1))
        bot.dispatch()

    assert answer == (
        "Cancelled postmortem #1 (Checkout errors); I told the channel why. Its reminders "
        "have stopped."
    )
    assert kinds_posted(bot)[sent_before:] == ["cancelled"]
    [told] = posted(bot, "cancelled")
    assert told["text"] == (
        ":no_entry_sign: <@U0BOB> cancelled the postmortem for *Checkout errors* (#1): "
        f"_{REASON}_. Its reminders have stopped."
    )
    status = bot.user("U0BOB").answer("status #1")
    assert "*#1 Checkout errors* — Cancelled (not reviewed)" in status
    assert "pick one from the prompt" not in status
    assert f": _{REASON}_" in status
    [audit] = [r for r in rows(bot, AuditEventRow) if r.action == "cancelled"]
    assert (audit.actor, audit.details) == ("U0BOB", {"reason": REASON, "was": "drafting"})


def test_once_cancelled_a_new_start_in_the_channel_opens_another(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.user("U0ALICE").answer("cancel started in the wrong channel")

    again = bot.user("U0ALICE").answer("start Checkout errors")

    assert again.startswith("Opened postmortem #2.")
    assert "There is no open postmortem" not in bot.user("U0ALICE").answer("status")
    assert "• Owner: _nobody_ (cancelled before anyone took it on)" in (
        bot.user("U0ALICE").answer("status #1")
    )


def test_the_opener_cancels_an_unowned_one_and_its_prompt_loses_its_buttons(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.slack.wait_for("chat.postMessage")
    bot.settle()
    opened = bot.runtime.postmortems.get(postmortem_id=1)
    assert opened is not None
    assert opened.prompt_ts is not None

    refused = bot.user("U0CAROL").answer("cancel a test of the bot, not an incident")
    bot.user("U0ALICE").answer("cancel a test of the bot, not an incident")
    bot.settle()

    [update] = bot.slack.calls("chat.update")
    assert update.params["ts"] == opened.prompt_ts
    assert buttons(update.params["blocks"]) == []
    assert refused == (
        "Only whoever opened it (<@U0ALICE>) or an incident manager can cancel postmortem #1. "
        "Ask them, saying why, or take it on yourself first if you are the right owner."
    )
    assert (
        "cancelled by <@U0ALICE>: _a test of the bot, not an incident_" in (update.params["text"])
    )


def test_once_owned_only_the_owner_the_opener_or_an_incident_manager_may_cancel(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy="incident_managers: [U0MANAGER]\n")
    owned_by_bob(bot)  # opened by Alice

    refused = bot.user("U0CAROL").answer(f"cancel {REASON}")
    by_opener = bot.user("U0ALICE").answer(f"cancel {REASON}")

    assert refused == (
        "Only the owner <@U0BOB>, whoever opened it (<@U0ALICE>) or an incident manager can "
        "cancel postmortem #1. Ask them, saying why."
    )
    assert by_opener.startswith("Cancelled postmortem #1 (Checkout errors);")


def test_an_incident_manager_may_cancel_an_owned_postmortem(make_bot: BotFactory) -> None:
    bot = make_bot(policy="incident_managers: [U0MANAGER]\n")
    owned_by_bob(bot)

    assert (
        bot.user("U0MANAGER")
        .answer(f"cancel {REASON}")
        .startswith("Cancelled postmortem #1 (Checkout errors);")
    )


def test_the_export_of_a_postmortem_cancelled_unowned_and_unmet_lists_no_participant(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy="incident_managers: [U0MANAGER]\n")
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.settle()
    bot.user("U0ALICE").answer(f"cancel #1 {REASON}")

    bot.user("U0ALICE").answer("export #1")
    bot.settle()

    [upload] = bot.slack.wait_for("_upload")
    assert "- Participants: none recorded\n" in upload.params["text"]
    assert "U0MANAGER" not in upload.params["text"]


def test_cancel_needs_a_reason_and_says_a_false_alarm_is_still_reviewed(bot: BotHarness) -> None:
    owned_by_bob(bot)

    answer = bot.user("U0BOB").answer("cancel")

    assert answer.startswith("`/postmortem cancel` needs the reason, which the channel is told")
    assert "A false alarm or a smaller incident than it seemed still gets its postmortem" in answer
    assert "Cancelled (not reviewed)" not in bot.user("U0BOB").answer("status")


def test_a_completed_postmortem_cannot_be_cancelled(bot: BotHarness) -> None:
    completed_by_bob(bot)

    answer = bot.user("U0BOB").answer(f"cancel #1 {REASON}")
    bot.settle()

    assert answer.startswith("I can't cancel this postmortem: it is already complete (since")
    assert posted(bot, "cancelled") == []


def test_a_cancelled_postmortems_action_items_stop_and_nothing_more_is_written_in_it(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)

    bot.user("U0BOB").answer(f"cancel {REASON}")
    bot.settle()
    at(bot, DUE_DAY_IN_NEW_YORK)

    assert posted(bot, "action_item_due") == []
    [told] = posted(bot, "cancelled")
    assert told["text"].endswith(
        "Its open action item was dropped with it: if still needed, record it in the "
        "postmortem that replaces this one."
    )
    assert bot.user("U0DAN").answer("action mine") == (
        "You have no open action items in any postmortem."
    )
    assert (
        bot.user("U0DAN")
        .answer("action #1 done 1")
        .startswith("Action item 1 was already dropped, by <@U0BOB>")
    )
    assert "• Document: never started · 1 action item (0 done, 1 dropped)" in (
        bot.user("U0BOB").answer("status #1")
    )
    refused = f"Postmortem #1 was cancelled ({REASON}), so nothing more is written in it."
    assert bot.user("U0BOB").answer("document #1").startswith(refused)
    assert add_action_item(bot, "U0BOB", "#1 <@U0DAN> 2026-12-10 Another step").startswith(refused)


def test_a_click_on_the_prompt_of_a_cancelled_postmortem_says_it_needs_no_owner(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    value = buttons(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])[0]["value"]
    bot.user("U0ALICE").answer("cancel started in the wrong channel")

    bot.user("U0CAROL").click({"action_id": "owner.claim_self", "value": value})
    bot.settle()

    said = [c.params["text"] for c in bot.slack.calls("chat.postEphemeral")]
    assert said[-1] == (
        "Postmortem #1 needs no owner any more: it was cancelled (started in the wrong channel)."
    )
    assert "<@None>" not in said[-1]


def test_a_hand_over_racing_a_cancel_does_not_give_the_cancelled_postmortem_an_owner(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer(f"cancel {REASON}")

    # The hand-over read the postmortem before the cancel committed; its write comes after.
    with UnitOfWork(create_session_factory(bot.runtime.engine)) as uow:
        moved = uow.postmortems.hand_over(
            postmortem_id=1, from_owner="U0BOB", to_owner="U0CAROL", by="U0BOB", at=bot.clock()
        )
        uow.commit()

    assert moved is False
    cancelled = bot.runtime.postmortems.get(postmortem_id=1)
    assert cancelled is not None
    assert cancelled.owner_id == "U0BOB"


def test_what_was_still_waiting_to_go_out_when_it_was_cancelled_is_not_posted_after(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    value = buttons(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])[0]["value"]
    bot.settle()
    bot.slack.fail_next("chat.postMessage", "service_unavailable")  # the next steps wait
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": value})
    bot.slack.wait_for("chat.update")
    bot.settle()

    bot.user("U0BOB").answer(f"cancel {REASON}")
    # The pump posts the cancel at once: let it finish first. Moving the test's clock past
    # its lease while it is still sending would hand the row to the dispatch below as if
    # the pump had died (a real clock cannot jump five minutes during one send).
    bot.settle()
    bot.clock.advance(timedelta(minutes=5))  # the failed announcement's retry is due
    bot.dispatch()
    bot.settle()

    in_channel = [m["metadata"]["event_payload"]["kind"] for m in bot.slack.messages("C0INCIDENT")]
    assert in_channel == ["owner_prompt", "cancelled"]  # no "you own it, schedule the meeting"


def test_in_a_cancelled_postmortems_channel_export_says_to_name_it(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("cancel opened twice: #2 is this incident's")

    unnamed = bot.user("U0BOB").answer("export")
    status = bot.user("U0BOB").answer("status")

    assert unnamed.startswith(
        "There is no open postmortem in this channel. To export one that is cancelled, add "
        "its number after the command, e.g. `/postmortem export #1`"
    )
    assert "Its last one, *#1 Checkout errors*, is cancelled" in status


def test_cancelling_a_postmortem_whose_meeting_invite_was_posted_calls_the_meeting_off(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy="incident_managers: [U0MANAGER]\n")
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(
        schedule_form(bot, after=timedelta(days=1), people=("U0ALICE", "U0CAROL"))
    )
    bot.settle()
    moved_to = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(submitted(opened_form(bot), at=moved_to, people=("U0ALICE",)))
    bot.settle()

    bot.user("U0MANAGER").answer(f"cancel {REASON}")
    bot.settle()

    [told] = posted(bot, "cancelled")
    assert told["text"] == (
        ":no_entry_sign: <@U0MANAGER> cancelled the postmortem for *Checkout errors* (#1): "
        f"_{REASON}_. Its reminders have stopped. Its meeting on "
        f"<!date^{int(moved_to.timestamp())}^{{date_short_pretty}} at {{time}}|"
        "2026-11-27 10:00 UTC> is off: <@U0BOB>, <@U0MANAGER>, <@U0ALICE>, delete it from "
        "your calendar."
    )


def test_a_meeting_whose_new_invite_was_not_posted_is_called_off_as_the_channel_heard_it(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    first = bot.clock() + timedelta(days=1)
    bot.user("U0BOB").submit_view(submitted(opened_form(bot), at=first, people=("U0CAROL",)))
    bot.settle()
    bot.slack.fail_next("files.getUploadURLExternal", "service_unavailable")  # the new invite waits
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))
    bot.settle()

    bot.user("U0BOB").answer(f"cancel {REASON}")
    bot.settle()

    [told] = posted(bot, "cancelled")
    assert told["text"].endswith(
        f"Its meeting on <!date^{int(first.timestamp())}^{{date_short_pretty}} at {{time}}|"
        f"{first:%Y-%m-%d %H:%M} UTC> is off: <@U0BOB>, <@U0CAROL>, delete it from your "
        "calendar."
    )


def test_a_meeting_called_off_after_a_hand_over_names_whom_its_invite_named(
    make_bot: BotFactory,
) -> None:
    # Bob scheduled it (his calendar has it), then handed it to Carol: telling Carol to delete
    # an event she never got, and not Bob, who has it, was wrong.
    bot = make_bot(policy="incident_managers: [U0MANAGER]\n")
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=1)))
    bot.settle()
    bot.user("U0BOB").command("owner <@U0CAROL>")
    bot.settle()

    bot.user("U0MANAGER").answer(f"cancel {REASON}")
    bot.settle()

    [told] = posted(bot, "cancelled")
    assert told["text"].endswith("is off: <@U0BOB>, <@U0MANAGER>, delete it from your calendar.")
