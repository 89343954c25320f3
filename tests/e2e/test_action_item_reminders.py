"""Action items are followed up: their owner is reminded on the due date and, a week later,
with the postmortem's owner; never once the item is done, even after the postmortem is.

Through the real HTTP app, the outbox pump and the Slack stand-in, on SQLite and PostgreSQL.
The clock starts on Tuesday 24 November 2026, 14:00 UTC. The workspace's zone is UTC and
working hours are the default (Monday to Friday, 09:00 to 18:00); the stand-in puts U0DAN in
New York, so a reminder to him waits for 09:00 there (14:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import BotFactory, BotHarness
from tests.e2e.test_document import add_action_item, document_form, filled, told
from tests.e2e.test_lifecycle_messages import hand_over_to_carol
from tests.support.lifecycle import owned_by_bob, posted, schedule_form
from tests.support.slack_user import buttons
from tests.support.waiting import wait_until

# Due Thursday 26 November: U0DAN's working day starts at 14:00 UTC.
DUE = "2026-11-26"
DUE_DAY_IN_NEW_YORK = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
A_WEEK_LATER_IN_NEW_YORK = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)


def at(bot: BotHarness, moment: datetime) -> None:
    """Move the clock to ``moment`` and send whatever is due then (the pump may be sending
    some of it as the dispatch returns: wait for that too)."""
    # What the pump is sending now first: a jump of days would expire its lease under it.
    bot.settle()
    bot.clock.advance(moment - bot.clock())
    bot.dispatch()
    bot.settle()


def with_an_item_for_dan(bot: BotHarness) -> None:
    owned_by_bob(bot)
    answer = add_action_item(bot, "U0BOB", f"<@U0DAN> {DUE} Alert on queue depth")
    assert "Added action item 1" in answer


def quiet_but_for_reminders(bot: BotHarness) -> None:
    """Nothing else is due with the reminders: the document is started (no "start the
    document" nudge), and Bob's "schedule the meeting" went out on Wednesday."""
    form = document_form(bot, "U0BOB")
    bot.user("U0BOB").submit_view(filled(form, summary="Checkout failed."))
    at(bot, datetime(2026, 11, 25, 15, tzinfo=UTC))


def mark_done_button(message: dict[str, Any]) -> dict[str, Any]:
    [button] = buttons(message["blocks"])
    assert button["action_id"] == "action_item.done"
    return button


def test_the_owner_is_reminded_on_the_due_date_in_their_working_hours_not_before(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)

    at(bot, datetime(2026, 11, 25, 23, 59, tzinfo=UTC))  # the day before
    day_before = posted(bot, "action_item_due")
    at(bot, datetime(2026, 11, 26, 0, 30, tzinfo=UTC))  # the due date, but 19:30 in New York
    before_work = posted(bot, "action_item_due")
    at(bot, DUE_DAY_IN_NEW_YORK)

    assert day_before == []
    assert before_work == []
    [reminder] = posted(bot, "action_item_due")
    assert reminder["channel"] == "C0INCIDENT"
    assert reminder["text"].startswith(
        ":alarm_clock: <@U0DAN>, your action item for *Checkout errors* (#1) is due today, Thu "
        "26 Nov 2026:\n> Item 1: Alert on queue depth\n"
    )
    assert "`/postmortem action #1 done 1`" in reminder["text"]
    assert mark_done_button(reminder)["value"] == "1:1"


def test_a_due_date_reminder_held_past_its_day_for_working_hours_says_it_was_due(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-11-28 Alert on queue depth")  # a Saturday

    at(bot, datetime(2026, 11, 28, 16, tzinfo=UTC))
    on_saturday = posted(bot, "action_item_due")
    at(bot, datetime(2026, 11, 30, 14, 5, tzinfo=UTC))  # Monday, 09:05 in New York

    assert on_saturday == []
    [reminder] = posted(bot, "action_item_due")
    assert reminder["text"].startswith(
        ":alarm_clock: <@U0DAN>, your action item for *Checkout errors* (#1) was due Sat 28 Nov "
        "2026 and is still open:\n"
    )


def test_a_week_after_the_due_date_an_open_item_is_brought_to_the_postmortem_owner_too(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    at(bot, DUE_DAY_IN_NEW_YORK)

    at(bot, A_WEEK_LATER_IN_NEW_YORK)

    assert len(posted(bot, "action_item_due")) == 1
    [overdue] = posted(bot, "action_item_overdue")
    assert "<@U0DAN>, your action item for *Checkout errors* (#1)" in overdue["text"]
    assert "was due Thu 26 Nov 2026 and is still open a week later" in overdue["text"]
    assert "<@U0BOB>, as the postmortem's owner, please help get it moving" in overdue["text"]


def test_no_reminder_is_sent_for_an_item_marked_done_before_its_day(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)
    bot.user("U0DAN").answer("action done 1")

    at(bot, DUE_DAY_IN_NEW_YORK)
    at(bot, A_WEEK_LATER_IN_NEW_YORK)

    assert posted(bot, "action_item_done") != []
    assert posted(bot, "action_item_due") == []
    assert posted(bot, "action_item_overdue") == []


def test_reminders_go_on_after_the_postmortem_is_completed(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)
    # The meeting, held the same afternoon; then the postmortem is done.
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=1)))
    bot.clock.advance(timedelta(hours=2))
    bot.user("U0BOB").answer("held")
    assert "is complete" in bot.user("U0BOB").answer("done")
    bot.settle()

    at(bot, DUE_DAY_IN_NEW_YORK)

    [completed] = posted(bot, "completed")
    assert "Its open action item comes before planned work" in completed["text"]
    [reminder] = posted(bot, "action_item_due")
    assert "<@U0DAN>, your action item" in reminder["text"]


def test_mark_done_on_a_reminder_marks_it_done_once_and_tells_the_channel(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    at(bot, DUE_DAY_IN_NEW_YORK)
    [reminder] = posted(bot, "action_item_due")
    button = mark_done_button(reminder)

    bot.user("U0DAN").click({"action_id": button["action_id"], "value": button["value"]})
    bot.settle()
    bot.user("U0CAROL").click({"action_id": button["action_id"], "value": button["value"]})
    bot.settle()
    at(bot, A_WEEK_LATER_IN_NEW_YORK)

    [done] = posted(bot, "action_item_done")
    assert "Action item 1 for *Checkout errors* (#1) is done" in done["text"]
    assert "marked by <@U0DAN>" in done["text"]
    assert any(
        "Action item 1 was already marked done, by <@U0DAN>" in t for t in told(bot, "U0CAROL")
    )
    assert posted(bot, "action_item_overdue") == []


def test_once_the_item_is_done_its_reminders_say_so_instead_of_offering_mark_done(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    at(bot, DUE_DAY_IN_NEW_YORK)
    at(bot, A_WEEK_LATER_IN_NEW_YORK - timedelta(minutes=10))  # the meeting's nudges are out
    bot.slack.fail_next("chat.postMessage", "is_archived")  # archived in the week between
    at(bot, A_WEEK_LATER_IN_NEW_YORK)

    assert bot.user("U0DAN").answer("action done 1") != ""
    bot.settle()

    [done] = posted(bot, "action_item_done")
    [in_channel] = kept(bot, "C0INCIDENT", "action_item_due")
    [directly] = kept(bot, "D0DAN", "action_item_overdue")
    for message in (in_channel, directly):
        assert message["text"] == done["text"]
        assert buttons(message["blocks"]) == []


def test_a_reminder_that_can_no_longer_be_updated_does_not_keep_the_channel_from_hearing(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    at(bot, DUE_DAY_IN_NEW_YORK)
    bot.slack.fail_next("chat.update", "message_not_found")  # deleted by hand
    bot.slack.fail_next("conversations.open", "user_not_found")

    bot.user("U0BOB").answer("action drop 1 given to the platform team's backlog")
    bot.settle()

    [dropped] = posted(bot, "action_item_dropped")
    assert "was dropped: Alert on queue depth" in dropped["text"]
    [reminder] = kept(bot, "C0INCIDENT", "action_item_due")
    assert buttons(reminder["blocks"]) != []  # as it was


def test_a_cancelled_postmortems_posted_reminders_say_their_item_was_dropped_with_it(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    at(bot, DUE_DAY_IN_NEW_YORK)

    bot.user("U0BOB").answer("cancel opened twice: #2 is this incident's")
    bot.settle()

    [reminder] = kept(bot, "C0INCIDENT", "action_item_due")
    assert reminder["text"].startswith(
        ":heavy_minus_sign: This action item was dropped with the postmortem for "
        "*Checkout errors* (#1), cancelled by <@U0BOB>: _opened twice: #2 is this incident's_."
    )
    assert buttons(reminder["blocks"]) == []


def kept(bot: BotHarness, channel: str, kind: str) -> list[dict[str, Any]]:
    """The messages of one kind as the channel shows them now (updates included)."""
    return [
        m
        for m in bot.slack.messages(channel)
        if m.get("metadata", {}).get("event_payload", {}).get("kind") == kind
    ]


def test_a_reminder_for_a_channel_that_takes_no_more_messages_goes_to_the_owner_directly(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    quiet_but_for_reminders(bot)
    bot.slack.fail_next("chat.postMessage", "is_archived")  # archived once the incident ended

    at(bot, DUE_DAY_IN_NEW_YORK)
    [refused, direct] = posted(bot, "action_item_due")
    button = mark_done_button(direct)
    bot.user("U0DAN", channel_id="D0DAN").click(
        {"action_id": button["action_id"], "value": button["value"]}
    )
    bot.settle()

    assert refused["channel"] == "C0INCIDENT"
    assert direct["channel"] == "U0DAN"
    assert direct["text"].startswith(":alarm_clock: Your action item for *Checkout errors* (#1)")
    assert "I can't post in <#C0INCIDENT> any more" in direct["text"]
    assert "/postmortem" not in direct["text"]  # commands only work in the channel
    [done] = posted(bot, "action_item_done")
    assert done["channel"] == "C0INCIDENT"
    assert any(
        "Marked action item 1 of postmortem #1 done: Alert on queue depth. Thank you!" in t
        for t in told(bot, "U0DAN")
    )


def test_a_mark_done_button_naming_no_item_is_answered_not_failed(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)

    garbled = bot.user("U0DAN").click({"action_id": "action_item.done", "value": "1:x"})
    unknown = bot.user("U0DAN").click({"action_id": "action_item.done", "value": "1:9"})
    bot.settle()

    assert garbled.status_code == unknown.status_code == 200
    said = told(bot, "U0DAN")
    assert any("That button didn't say which action item it was for" in t for t in said)
    assert any("Postmortem #1 has no action item 9" in t for t in said)
    assert posted(bot, "action_item_done") == []


def test_status_marks_the_open_items_whose_due_date_has_passed(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)
    add_action_item(bot, "U0BOB", "<@U0BOB> 2026-12-10 Document the rollback")

    on_time = bot.user("U0BOB").answer("status")
    bot.clock.advance(datetime(2026, 11, 27, 10, tzinfo=UTC) - bot.clock())
    late = bot.user("U0BOB").answer("status")

    assert "overdue" not in on_time
    assert "    1. Alert on queue depth — <@U0DAN>, due Thu 26 Nov 2026 — *overdue*" in late
    assert "    2. Document the rollback — <@U0BOB>, due Thu 10 Dec 2026\n" in late


def test_a_hand_over_leaves_the_old_owners_action_item_reminders_with_them(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    add_action_item(bot, "U0BOB", f"<@U0BOB> {DUE} Document the rollback")
    hand_over_to_carol(bot)
    quiet_but_for_reminders(bot)
    bot.slack.fail_next("chat.postMessage", "is_archived")  # so the reminder shows its recipient

    at(bot, DUE_DAY_IN_NEW_YORK)

    [_refused, direct] = posted(bot, "action_item_due")
    assert direct["channel"] == "U0BOB"
    assert "Your action item" in direct["text"]


def test_an_owner_west_of_the_workspace_is_not_reminded_before_the_due_date_begins_there(
    bot: BotHarness,
) -> None:
    bot.slack.add_user("U0LAURA", tz="America/Los_Angeles")
    owned_by_bob(bot)
    add_action_item(bot, "U0BOB", f"<@U0LAURA> {DUE} Alert on queue depth")

    # Wednesday 16:30 in Los Angeles: the due date has begun in the workspace's zone (UTC).
    at(bot, datetime(2026, 11, 26, 0, 30, tzinfo=UTC))
    the_afternoon_before = posted(bot, "action_item_due")
    at(bot, datetime(2026, 11, 26, 17, 5, tzinfo=UTC))  # Thursday 09:05 in Los Angeles

    assert the_afternoon_before == []
    [reminder] = posted(bot, "action_item_due")
    assert "<@U0LAURA>, your action item" in reminder["text"]


def test_a_reminder_slack_refuses_even_directly_shows_in_status_for_that_postmortem(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    add_action_item(bot, "U0BOB", "<@U0BOB> 2026-12-10 Document the rollback")  # still pending
    quiet_but_for_reminders(bot)
    bot.slack.fail_next("chat.postMessage", "is_archived")
    bot.slack.fail_next("chat.postMessage", "user_disabled")  # and the direct message

    at(bot, DUE_DAY_IN_NEW_YORK)
    status = bot.user("U0BOB").answer("status #1")

    assert len(posted(bot, "action_item_due")) == 2
    assert (
        "Could not deliver the due-date reminder for action item 1 (Slack said "
        "`user_disabled`)" in status
    )
    assert any(
        "I could not remind <@U0DAN> of action item 1 of postmortem #1 (Alert on queue depth): "
        "Slack said `user_disabled`. If they have left, agree who takes it on and hand it to "
        "them with `/postmortem action #1 owner 1 @someone`" in t
        for t in told(bot, "U0BOB")
    )
    bot.user("U0DAN").answer("action done 1")
    assert "user_disabled" not in bot.user("U0BOB").answer("status #1")


def test_moving_a_stranded_postmortem_takes_its_action_item_reminders_along(
    bot: BotHarness,
) -> None:
    private, warroom = "C0PRIVATE", "C0WARROOM"
    bot.slack.fail_next("chat.postMessage", "not_in_channel")  # the owner prompt, for good
    bot.user("U0ALICE", channel_id=private).answer("start Checkout errors")
    bot.settle()
    before = len(told(bot, "U0ALICE"))
    bot.user("U0ALICE", channel_id=private).command(f"action #1 <@U0DAN> {DUE} Alert on depth")
    wait_until(lambda: len(told(bot, "U0ALICE")) > before)

    moved = bot.user("U0ALICE", channel_id=warroom).answer("move #1")
    at(bot, DUE_DAY_IN_NEW_YORK)

    assert "Moved postmortem #1" in moved
    [reminder] = posted(bot, "action_item_due")
    assert reminder["channel"] == warroom


def test_an_owner_far_east_of_the_workspace_is_reminded_on_the_morning_of_the_due_date(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy="workspace_timezone: America/Los_Angeles\n")
    bot.slack.add_user("U0SYDNEY", tz="Australia/Sydney")
    owned_by_bob(bot)
    add_action_item(bot, "U0BOB", f"<@U0SYDNEY> {DUE} Alert on queue depth")

    # Thursday 26 November, 09:05 in Sydney: still Wednesday afternoon in Los Angeles.
    at(bot, datetime(2026, 11, 25, 22, 5, tzinfo=UTC))

    [reminder] = posted(bot, "action_item_due")
    assert "<@U0SYDNEY>, your action item" in reminder["text"]


def test_an_item_recorded_when_its_due_day_has_begun_where_its_owner_is_gets_no_reminder_of_it(
    bot: BotHarness,
) -> None:
    # Tuesday 14:00 in the workspace (UTC) is already Wednesday 04:00 in Kiritimati: an item
    # due Wednesday is due "today" there the moment it is recorded, as its announcement says.
    bot.slack.add_user("U0KIRI", tz="Pacific/Kiritimati")
    owned_by_bob(bot)
    add_action_item(bot, "U0BOB", "<@U0KIRI> 2026-11-25 Alert on queue depth")

    at(bot, datetime(2026, 11, 24, 19, 5, tzinfo=UTC))  # 09:05 on Wednesday in Kiritimati
    at(bot, datetime(2026, 12, 1, 19, 5, tzinfo=UTC))  # a week later, still open

    assert posted(bot, "action_item_due") == []
    [overdue] = posted(bot, "action_item_overdue")
    assert "<@U0KIRI>, your action item" in overdue["text"]


def test_action_mine_lists_what_someone_owes_in_every_postmortem_soonest_first(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)  # #1 in C0INCIDENT: due Thu 26 Nov
    add_action_item(
        bot, "U0BOB", "<@U0DAN> 2026-11-25 Rotate the &lt;keys&gt;"
    )  # as Slack sends it
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-01 Already done")
    bot.user("U0DAN").answer("action done 3")
    bot.user("U0ALICE", channel_id="C0OTHER").answer("start Queue backlog")
    bot.settle()
    before = len(told(bot, "U0ALICE"))
    bot.user("U0ALICE", channel_id="C0OTHER").command("action <@U0DAN> 2026-12-20 Add alerts")
    wait_until(lambda: len(told(bot, "U0ALICE")) > before)
    bot.clock.advance(datetime(2026, 11, 25, 20, tzinfo=UTC) - bot.clock())

    mine = bot.user("U0DAN", channel_id="C0ELSEWHERE").answer("action mine")
    none = bot.user("U0CAROL").answer("action mine")

    lines = mine.splitlines()
    assert lines[0] == "*Your open action items* (3), soonest due first:"
    assert lines[1] == (
        "• due Wed 25 Nov 2026 · *Checkout errors* (#1) in <#C0INCIDENT>, item 2: "
        "Rotate the &lt;keys&gt;"
    )
    assert lines[2].startswith("• due Thu 26 Nov 2026 · *Checkout errors* (#1)")
    assert lines[3] == (
        "• due Sun 20 Dec 2026 · *Queue backlog* (#2) in <#C0OTHER>, item 1: Add alerts"
    )
    assert "Already done" not in mine
    assert "`/postmortem action #N done M`" in lines[4]
    assert none == "You have no open action items in any postmortem."


def test_action_mine_marks_what_is_overdue(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)
    bot.clock.advance(datetime(2026, 11, 27, 10, tzinfo=UTC) - bot.clock())

    mine = bot.user("U0DAN").answer("action mine")

    assert "• due Thu 26 Nov 2026 — *overdue* · *Checkout errors* (#1)" in mine


def test_action_mine_lists_ten_and_counts_the_rest(bot: BotHarness) -> None:
    owned_by_bob(bot)
    for day in range(1, 13):
        add_action_item(bot, "U0BOB", f"<@U0DAN> 2026-12-{day:02} Step {day}")

    mine = bot.user("U0DAN").answer("action mine").splitlines()

    assert mine[0] == "*Your open action items* (12), soonest due first:"
    assert [line.rsplit(": ", 1)[1] for line in mine[1:11]] == [f"Step {d}" for d in range(1, 11)]
    assert mine[11] == "… and 2 more, due as late or later."


def test_an_item_named_by_its_number_is_marked_done_from_any_channel(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)

    done = bot.user("U0DAN", channel_id="C0ELSEWHERE").answer("action #1 done 1")
    bot.settle()

    assert "Marked action item 1 of postmortem #1 done" in done
    [told_channel] = posted(bot, "action_item_done")
    assert told_channel["channel"] == "C0INCIDENT"


def test_anyone_in_the_incident_channel_can_mark_an_item_done(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)

    done = bot.user("U0CAROL").answer("action done 1")
    bot.settle()

    assert "Marked action item 1 of postmortem #1 done" in done
    [told_channel] = posted(bot, "action_item_done")
    assert "marked by <@U0CAROL>" in told_channel["text"]


def test_from_another_channel_someone_the_item_does_not_concern_cannot_mark_it_done(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)

    refused = bot.user("U0ERIN", channel_id="C0ELSEWHERE").answer("action #1 done 1")
    bot.settle()

    assert refused == (
        "Postmortem #1's action items can be changed, marked done or dropped in <#C0INCIDENT>. "
        "From elsewhere, only the item's owner, the postmortem's owner or an incident manager "
        "can."
    )
    assert "queue depth" not in refused  # the item's text is not shown outside its channel
    assert posted(bot, "action_item_done") == []
    assert "1. Alert on queue depth — <@U0DAN>" in bot.user("U0BOB").answer("status")


def test_from_elsewhere_the_postmortem_owner_and_an_incident_manager_can_mark_items_done(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy="incident_managers: [U0MANAGER]\n")
    with_an_item_for_dan(bot)
    add_action_item(bot, "U0BOB", f"<@U0DAN> {DUE} Add a runbook step")

    by_owner = bot.user("U0BOB", channel_id="C0ELSEWHERE").answer("action #1 done 1")
    by_manager = bot.user("U0MANAGER", channel_id="D0MANAGER").answer("action #1 done 2")
    bot.settle()

    assert "Marked action item 1 of postmortem #1 done" in by_owner
    assert "Marked action item 2 of postmortem #1 done" in by_manager
    assert len(posted(bot, "action_item_done")) == 2


def test_in_a_direct_message_commands_without_a_number_say_what_works_there(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    dan = bot.user("U0DAN", channel_id="D0DAN")

    unnamed = dan.answer("action done 1")
    status = dan.answer("status")
    held = dan.answer("held")
    named = dan.answer("action #1 done 1")

    assert unnamed == (
        "A direct message has no postmortem of its own: add the postmortem's number N, as in "
        "`/postmortem action #N done 1` (`/postmortem action mine` lists your open action items "
        "with their numbers). Other commands run in the incident's channel."
    )
    assert (
        status
        == held
        == (
            "A direct message has no postmortem of its own. Here, `/postmortem action mine` lists "
            "your open action items with their postmortem's number N, and `/postmortem action #N "
            "done 1` (or `drop`, `due`, `owner`) acts on one. Everything else, `status #N` "
            "included, runs in the incident's channel (incident managers: `/postmortem status "
            "all` works anywhere)."
        )
    )
    assert "start" not in unnamed + status
    assert "Marked action item 1 of postmortem #1 done" in named  # as the answers say


def test_an_item_no_longer_needed_is_dropped_with_why_and_never_reminded_of(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)

    answer = bot.user("U0BOB").answer("action drop 1 the queue was removed")
    at(bot, DUE_DAY_IN_NEW_YORK)
    at(bot, A_WEEK_LATER_IN_NEW_YORK)

    assert answer == (
        "Dropped action item 1 of postmortem #1: Alert on queue depth. I told the channel "
        "why; its reminders stop."
    )
    [told_channel] = posted(bot, "action_item_dropped")
    assert posted(bot, "action_item_done") == []  # dropped is not done
    assert told_channel["text"] == (
        ":heavy_minus_sign: Action item 1 for *Checkout errors* (#1) was dropped: Alert on "
        "queue depth (owner <@U0DAN>, dropped by <@U0BOB>, because: _the queue was removed_). "
        "It will not be followed up."
    )
    assert posted(bot, "action_item_due") == []
    assert posted(bot, "action_item_overdue") == []
    status = bot.user("U0BOB").answer("status")
    assert "1 action item (0 done, 1 dropped)" in status
    assert "Alert on queue depth" not in status  # listed no more: it is closed
    assert (
        bot.user("U0DAN").answer("action mine")
        == "You have no open action items in any postmortem."
    )


def test_a_dropped_items_mark_done_button_says_it_was_dropped(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)
    at(bot, DUE_DAY_IN_NEW_YORK)
    [reminder] = posted(bot, "action_item_due")
    button = mark_done_button(reminder)
    bot.user("U0BOB").answer("action drop 1 given to the platform team's backlog")

    bot.user("U0DAN").click({"action_id": button["action_id"], "value": button["value"]})
    bot.settle()

    assert any("Action item 1 was already dropped, by <@U0BOB>" in t for t in told(bot, "U0DAN"))
    assert len(posted(bot, "action_item_dropped")) == 1
    assert posted(bot, "action_item_done") == []


# -- changing an open item: a new due date, a new owner ---------------------------------------

NEW_DUE_DAY_IN_NEW_YORK = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)  # Tuesday 1 December


def test_a_new_due_date_moves_the_reminders_and_the_channel_is_told(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)

    answer = bot.user("U0DAN").answer("action due 1 2026-12-01")
    at(bot, DUE_DAY_IN_NEW_YORK)
    on_the_old_day = posted(bot, "action_item_due")
    at(bot, NEW_DUE_DAY_IN_NEW_YORK)

    assert answer == (
        "Action item 1 of postmortem #1 is now due 2026-12-01 (was 2026-11-26); its reminders "
        "follow. I told the channel."
    )
    [told_channel] = posted(bot, "action_item_changed")
    assert told_channel["text"] == (
        ":pencil2: Action item 1 for *Checkout errors* (#1) was changed: Alert on queue depth\n"
        "• Owner: <@U0DAN> · due Tue 01 Dec 2026 (was Thu 26 Nov 2026) · changed by <@U0DAN>"
    )
    assert on_the_old_day == []
    [reminder] = posted(bot, "action_item_due")
    assert "is due today, Tue 01 Dec 2026:" in reminder["text"]
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert trail[-1] == "action_item_changed"


def test_an_item_handed_to_someone_else_reminds_them_and_leaves_the_old_owner_be(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)

    answer = add_action_item(bot, "U0BOB", "owner 1 <@U0ERIN|erin>")
    at(bot, DUE_DAY_IN_NEW_YORK)

    assert answer == (
        "Action item 1 of postmortem #1 is now <@U0ERIN>'s (was <@U0DAN>'s); its reminders "
        "go to them. I told the channel."
    )
    [told_channel] = posted(bot, "action_item_changed")
    assert told_channel["text"].endswith(
        "• Owner: <@U0ERIN> (was <@U0DAN>) · due Thu 26 Nov 2026 · changed by <@U0BOB>"
    )
    [reminder] = posted(bot, "action_item_due")
    assert reminder["text"].startswith(":alarm_clock: <@U0ERIN>, your action item")
    assert "Alert on queue depth" in bot.user("U0ERIN").answer("action mine")
    assert (
        bot.user("U0DAN").answer("action mine")
        == "You have no open action items in any postmortem."
    )


def test_an_item_cannot_be_handed_to_a_bot(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)
    bot.slack.add_user("U0PDBOT", is_bot=True)

    answer = add_action_item(bot, "U0BOB", "owner 1 <@U0PDBOT>")
    bot.settle()

    assert "<@U0PDBOT> is a bot. An action item needs a person as its owner" in answer
    assert posted(bot, "action_item_changed") == []


def test_a_change_that_cannot_be_is_refused_and_says_why(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)
    add_action_item(bot, "U0BOB", f"<@U0DAN> {DUE} Add a runbook step")
    bot.user("U0DAN").answer("action done 2")

    past = bot.user("U0DAN").answer("action due 1 2026-11-20")
    same = bot.user("U0DAN").answer(f"action due 1 {DUE}")
    closed = bot.user("U0DAN").answer("action due 2 2026-12-01")
    missing = bot.user("U0DAN").answer("action due 7 2026-12-01")
    elsewhere = bot.user("U0ERIN", channel_id="C0ELSEWHERE").answer("action #1 due 1 2026-12-01")
    bot.settle()

    assert past == "2026-11-20 has passed: give the date it will be done by."
    assert same == "Action item 1 is already due 2026-11-26."
    assert closed.startswith("Action item 2 was already marked done, by <@U0DAN> on 2026-11-24")
    assert missing.startswith("Postmortem #1 has no action item 7")
    assert elsewhere.startswith("Postmortem #1's action items can be changed, marked done or")
    assert posted(bot, "action_item_changed") == []


def test_in_the_channel_of_its_only_completed_postmortem_an_item_command_acts_on_it(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(hours=1)))
    bot.clock.advance(timedelta(hours=2))
    bot.user("U0BOB").answer("held")
    bot.user("U0BOB").answer("done")

    unnamed = bot.user("U0DAN").answer("action due 1 2026-12-01")
    bot.settle()

    assert unnamed == (
        f"Action item 1 of postmortem #1 is now due 2026-12-01 (was {DUE}); its reminders "
        "follow. I told the channel."
    )
    assert len(posted(bot, "action_item_changed")) == 1


def test_an_item_changed_and_changed_back_is_reminded_of_once(bot: BotHarness) -> None:
    with_an_item_for_dan(bot)

    bot.user("U0BOB").answer("action due 1 2026-12-01")
    bot.user("U0BOB").answer(f"action due 1 {DUE}")
    add_action_item(bot, "U0BOB", "owner 1 <@U0ERIN|erin>")
    add_action_item(bot, "U0BOB", "owner 1 <@U0DAN|dan>")
    at(bot, DUE_DAY_IN_NEW_YORK)
    at(bot, A_WEEK_LATER_IN_NEW_YORK)

    [due] = posted(bot, "action_item_due")
    [overdue] = posted(bot, "action_item_overdue")
    assert due["text"].startswith(":alarm_clock: <@U0DAN>, your action item")
    assert "<@U0DAN>, your action item" in overdue["text"]
    # Erin was told it was hers; the item was Dan's again before she was reminded of it.
    assert [m["channel"] for m in posted(bot, "action_item_given")] == ["U0ERIN", "U0DAN"]


def test_the_new_owner_of_an_item_is_told_directly_unless_they_took_it_themselves(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)

    add_action_item(bot, "U0BOB", "owner 1 <@U0ERIN|erin>")
    add_action_item(bot, "U0CAROL", "owner 1 <@U0CAROL|carol>")
    bot.settle()

    [given] = posted(bot, "action_item_given")
    assert given["channel"] == "U0ERIN"
    assert given["text"] == (
        ":pushpin: <@U0BOB> handed you action item 1 of the postmortem for *Checkout errors* "
        "(#1), due Thu 26 Nov 2026:\n> Alert on queue depth\nI'll remind you on its due date. "
        "When it is done: `/postmortem action #1 done 1`; if it should be someone else's, hand "
        "it on with `/postmortem action #1 owner 1 @someone`."
    )


def test_an_overdue_item_handed_over_is_not_called_a_week_late_to_its_new_owner_at_once(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    at(bot, DUE_DAY_IN_NEW_YORK + timedelta(days=8))  # a week and a day late: Dan was told

    add_action_item(bot, "U0BOB", "owner 1 <@U0ERIN|erin>")
    at(bot, bot.clock() + timedelta(hours=1))

    [overdue] = posted(bot, "action_item_overdue")  # Dan's, from the day before
    assert "<@U0DAN>" in overdue["text"]
    [given] = posted(bot, "action_item_given")
    assert given["channel"] == "U0ERIN"
    assert "It is overdue: please agree a new date if it needs one" in given["text"]
    assert "I'll remind you" not in given["text"]


def test_an_overdue_item_handed_to_someone_whose_week_later_day_has_begun_waits_for_nothing(
    bot: BotHarness,
) -> None:
    with_an_item_for_dan(bot)
    bot.slack.add_user("U0KIWI", tz="Pacific/Auckland")
    at(bot, DUE_DAY_IN_NEW_YORK)
    # Wednesday 12:00 UTC: in Auckland it is already Thursday, a week after the due date.
    at(bot, datetime(2026, 12, 2, 12, tzinfo=UTC))

    add_action_item(bot, "U0BOB", "owner 1 <@U0KIWI|kiwi>")
    at(bot, datetime(2026, 12, 3, 23, tzinfo=UTC))

    assert posted(bot, "action_item_overdue") == []
