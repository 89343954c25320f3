"""Writing the postmortem: the document form, action items, the Markdown export and status,
through the real HTTP app and the Slack stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.lifecycle import State
from tests.conftest import BotHarness
from tests.e2e.test_lifecycle_messages import hand_over_to_carol
from tests.support.lifecycle import (
    completed_by_bob,
    errors,
    held_by_bob,
    owned_by_bob,
    posted,
    schedule_form,
)
from tests.support.slack_user import buttons
from tests.support.waiting import wait_until


def document_form(bot: BotHarness, user: str, command: str = "document") -> dict[str, Any]:
    """The document form ``user`` opens with `/postmortem document` (or ``command``)."""
    opened_before = len(bot.slack.calls("views.open"))
    assert bot.user(user).answer(command) == ""
    opened = bot.slack.wait_for("views.open", count=opened_before + 1)[-1]
    return dict(opened.params["view"])


def filled(view: dict[str, Any], **sections: str) -> dict[str, Any]:
    """``view`` as Slack sends it back: what it showed, with ``sections`` typed over it."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        name = block["block_id"].removeprefix("document.")
        value = sections.get(name, block["element"].get("initial_value"))
        values[block["block_id"]] = {
            block["block_id"]: {"type": "plain_text_input", "value": value}
        }
    return {**view, "id": "V0DOC", "state": {"values": values}}


def add_action_item(bot: BotHarness, user: str, text: str) -> str:
    """`/postmortem action …` by ``user``: the ack is empty, the answer comes once Slack has
    said the item's owner is a person; returns that answer."""
    bot.settle()  # earlier answers to ``user`` are out, so the next one is this one's
    before = len(told(bot, user))
    assert bot.user(user).answer(f"action {text}") == ""
    wait_until(lambda: len(told(bot, user)) > before)
    return told(bot, user)[-1]


def told(bot: BotHarness, user: str) -> list[str]:
    return [
        c.params["text"] for c in bot.slack.calls("chat.postEphemeral") if c.params["user"] == user
    ]


def test_the_document_form_saves_what_was_written_and_the_channel_hears_it_started_once(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)

    form = document_form(bot, "U0BOB")
    assert form["callback_id"] == "postmortem.document"
    first = bot.user("U0BOB").submit_view(filled(form, summary="Checkout failed for 25 min."))
    bot.settle()
    again = document_form(bot, "U0CAROL")
    second = bot.user("U0CAROL").submit_view(filled(again, impact="40% of orders failed."))
    bot.settle()

    assert errors(first) == {}
    assert errors(second) == {}
    [started] = posted(bot, "document_started")
    assert "<@U0BOB> started the document" in started["text"]
    assert "collaborative" in started["text"]
    inputs = {b["block_id"]: b for b in again["blocks"] if b["type"] == "input"}
    assert inputs["document.summary"]["element"]["initial_value"] == "Checkout failed for 25 min."
    assert any(
        "Saved postmortem #1's document (impact; 2 of 6 sections written now)" in t
        for t in told(bot, "U0CAROL")
    )
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    saved = [(who, what) for _, who, what in trail if what == "document_saved"]
    assert saved == [("U0BOB", "document_saved"), ("U0CAROL", "document_saved")]


def test_two_people_writing_different_sections_at_once_both_keep_their_text(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bobs = document_form(bot, "U0BOB")
    carols = document_form(bot, "U0CAROL")

    bot.user("U0BOB").submit_view(filled(bobs, summary="Checkout failed."))
    carol_saved = bot.user("U0CAROL").submit_view(filled(carols, timeline="13:02 alert fired"))
    bot.user("U0BOB").answer("export")
    bot.settle()

    assert errors(carol_saved) == {}
    [upload] = bot.slack.wait_for("_upload")
    assert "## Summary\n\nCheckout failed." in upload.params["text"]
    assert "## Timeline\n\n13:02 alert fired" in upload.params["text"]


def test_changing_a_section_someone_else_just_changed_is_refused_inline_not_overwritten(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bobs = document_form(bot, "U0BOB")
    carols = document_form(bot, "U0CAROL")
    bot.user("U0BOB").submit_view(filled(bobs, summary="Bob's summary."))

    carols_edit = filled(carols, summary="Carol's summary.", impact="40% of orders")
    refused = errors(bot.user("U0CAROL").submit_view(carols_edit))
    bot.settle()
    reopened = document_form(bot, "U0CAROL")

    assert list(refused) == ["document.summary"]
    assert "This section was changed since this form opened" in refused["document.summary"]
    assert "Your changes to the other sections were saved." in refused["document.summary"]
    inputs = {b["block_id"]: b for b in reopened["blocks"] if b["type"] == "input"}
    assert inputs["document.summary"]["element"]["initial_value"] == "Bob's summary."
    assert inputs["document.impact"]["element"]["initial_value"] == "40% of orders"
    assert any("Saved postmortem #1's document (impact;" in t for t in told(bot, "U0CAROL"))


def test_a_conflict_with_nothing_else_changed_does_not_claim_other_changes_were_saved(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    first = document_form(bot, "U0BOB")
    second = document_form(bot, "U0BOB")  # the same person, in another form
    bot.user("U0BOB").submit_view(filled(first, summary="First form."))

    refused = errors(bot.user("U0BOB").submit_view(filled(second, summary="Second form.")))

    assert (
        "changed since this form opened (by someone else, or in another form)"
        in (refused["document.summary"])
    )
    assert "other sections" not in refused["document.summary"]


def test_blaming_words_are_saved_and_their_writer_is_told_kindly_which_and_where(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    form = document_form(bot, "U0BOB")
    factors = "Human error: @dan forgot to renew the certificate."

    saved = bot.user("U0BOB").submit_view(
        filled(form, summary="Checkout failed.", contributing_factors=factors)
    )
    bot.settle()
    reopened = document_form(bot, "U0CAROL")
    # Carol's save changes only the impact: she is not told about Bob's words.
    bot.user("U0CAROL").submit_view(filled(reopened, impact="40% of orders failed."))
    bot.settle()

    assert errors(saved) == {}
    [bobs] = [t for t in told(bot, "U0BOB") if "Saved postmortem #1's document" in t]
    assert bobs.endswith(
        "A thought on wording: “human error”, “@someone forgot” (contributing factors) — try "
        "describing the conditions and decisions that led there, not who should have done "
        "what; postmortems are blameless."
    )
    inputs = {b["block_id"]: b for b in reopened["blocks"] if b["type"] == "input"}
    assert inputs["document.contributing_factors"]["element"]["initial_value"] == factors
    [carols] = [t for t in told(bot, "U0CAROL") if "Saved postmortem #1's document" in t]
    assert "wording" not in carols


def test_a_save_is_told_only_about_blaming_words_it_wrote_not_those_already_there(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    alices = document_form(bot, "U0ALICE")
    factors = "Human error: the certficate expired unnoticed."
    bot.user("U0ALICE").submit_view(filled(alices, contributing_factors=factors))
    bot.settle()

    # Bob only fixes a typo in Alice's section, then adds words of his own to it.
    typo_fixed = factors.replace("certficate", "certificate")
    bot.user("U0BOB").submit_view(
        filled(document_form(bot, "U0BOB"), contributing_factors=typo_fixed)
    )
    bot.settle()
    added = typo_fixed + " The root cause: no alert on expiry."
    bot.user("U0BOB").submit_view(filled(document_form(bot, "U0BOB"), contributing_factors=added))
    bot.settle()

    [alices_saved] = [t for t in told(bot, "U0ALICE") if "Saved postmortem #1's document" in t]
    assert "A thought on wording: “human error” (contributing factors) — " in alices_saved
    typo_saved, bobs_words_saved = [
        t for t in told(bot, "U0BOB") if "Saved postmortem #1's document" in t
    ]
    assert "wording" not in typo_saved
    assert "A thought on wording: “root cause” (contributing factors) — " in bobs_words_saved
    assert "human error" not in bobs_words_saved


def test_an_action_item_with_blaming_words_is_recorded_and_its_adder_told_kindly(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)

    answer = add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Find the root cause of the expiry")
    plain = add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Alert on certificate expiry")
    bot.settle()

    assert answer.startswith("Added action item 1 to postmortem #1: Find the root cause")
    assert answer.endswith(
        "I told the channel. A thought on wording: “root cause” — try describing the "
        "conditions and decisions that led there, not who should have done what; "
        "postmortems are blameless."
    )
    assert "wording" not in plain
    assert len(posted(bot, "action_item_added")) == 2


def test_an_action_item_is_recorded_numbered_and_told_to_the_channel(bot: BotHarness) -> None:
    owned_by_bob(bot)

    first = add_action_item(bot, "U0BOB", "<@U0DAN|dan> 2026-12-04 Alert on queue depth")
    second = add_action_item(bot, "U0CAROL", "<@U0BOB> 2026-12-10 Document the rollback")
    bot.settle()

    assert "Added action item 1 to postmortem #1: Alert on queue depth — <@U0DAN>" in first
    assert "Added action item 2" in second
    announced = [m["text"] for m in posted(bot, "action_item_added")]
    assert "Action item 1" in announced[0]
    assert "Owner: <@U0DAN> · due Fri 04 Dec 2026" in announced[0]
    assert "added by <@U0CAROL>" in announced[1]
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert trail.count("action_item_added") == 2


def test_an_action_item_with_a_bad_or_past_date_is_refused_and_nothing_stored(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)

    # Typed as "<!channel>": Slack escapes it; echoed back unescaped it would ping everyone.
    not_a_date = bot.user("U0BOB").answer("action <@U0DAN> &lt;!channel&gt; Alert on queue depth")
    yesterday = (bot.clock() - timedelta(days=1)).date().isoformat()
    past = add_action_item(bot, "U0BOB", f"<@U0DAN> {yesterday} Alert")
    bot.settle()

    assert "`&lt;!channel&gt;` is not a date: write the due date as YYYY-MM-DD" in not_a_date
    assert "has passed: give the date it will be done by" in past
    assert posted(bot, "action_item_added") == []
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert "action_item_added" not in trail


def test_a_due_date_that_is_still_today_somewhere_is_accepted(bot: BotHarness) -> None:
    # 02:00 UTC on Wednesday is 18:00 on Tuesday in Los Angeles: Tuesday has not passed for
    # the person typing it, whatever day it is in the workspace's time zone (UTC here).
    owned_by_bob(bot)
    bot.clock.advance(timedelta(hours=12))  # Wed 25 Nov 02:00 UTC

    answer = add_action_item(bot, "U0BOB", "<@U0DAN> 2026-11-24 Alert on queue depth")
    gone_everywhere = add_action_item(bot, "U0BOB", "<@U0DAN> 2026-11-23 Alert on disk")

    assert "Added action item 1" in answer
    assert gone_everywhere == "2026-11-23 has passed: give the date it will be done by."


def test_the_export_posts_a_markdown_file_with_names_not_user_ids(bot: BotHarness) -> None:
    bot.slack.add_user("U0BOB", real_name="Bob Builder")
    bot.slack.add_user("U0DAN", real_name="Dan Ops")
    owned_by_bob(bot)
    form = document_form(bot, "U0BOB")
    bot.user("U0BOB").submit_view(filled(form, contributing_factors="A retry storm."))
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Alert on queue depth")

    answer = bot.user("U0CAROL").answer("export")
    bot.settle()

    assert "I'm posting postmortem #1's document and action items here" in answer
    [upload_url] = bot.slack.wait_for("files.getUploadURLExternal")
    assert upload_url.params["filename"] == "postmortem-1.md"
    [upload] = bot.slack.wait_for("_upload")
    markdown = upload.params["text"]
    assert markdown.startswith("# Postmortem #1: Checkout errors")
    assert "- Owner: @Bob Builder" in markdown
    assert "## Contributing factors\n\nA retry storm." in markdown
    assert "1. [ ] Alert on queue depth — owner @Dan Ops, due 2026-12-04" in markdown
    assert "<@" not in markdown
    [complete] = bot.slack.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0INCIDENT"
    [note] = posted(bot, "document_export")
    assert "exported by <@U0CAROL>" in note["text"]


def test_status_shows_how_far_the_document_and_its_action_items_are(bot: BotHarness) -> None:
    owned_by_bob(bot)
    before = bot.user("U0BOB").answer("status")
    form = document_form(bot, "U0BOB")
    bot.user("U0BOB").submit_view(filled(form, summary="Checkout failed.", impact="Orders"))
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Alert on queue depth")

    after = bot.user("U0BOB").answer("status")

    assert "• Document: not started (`/postmortem document #1`)" in before
    assert "no action items yet" in before
    assert "• Document: 2 of 6 sections written, last changed by <@U0BOB>" in after
    assert "1 action item (0 done) ·" in after
    assert "    1. Alert on queue depth — <@U0DAN>, due Fri 04 Dec 2026" in after


def test_document_commands_without_a_postmortem_here_say_so_and_open_nothing(
    bot: BotHarness,
) -> None:
    document = bot.user("U0BOB").answer("document")
    action = add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Alert")
    export = bot.user("U0BOB").answer("export")

    for answer in (document, action, export):
        assert "There is no open postmortem in this channel" in answer
    assert bot.slack.calls("views.open") == []


def test_a_completed_postmortem_can_still_be_exported_by_its_number(bot: BotHarness) -> None:
    completed_by_bob(bot)
    bot.settle()

    [completed] = posted(bot, "completed")
    answer = bot.user("U0CAROL").answer("export #1")
    bot.settle()

    assert "Then `/postmortem export #1` posts it as Markdown" in completed["text"]
    assert "I'm posting postmortem #1's document" in answer
    _invite, export = bot.slack.wait_for("_upload", count=2)  # the meeting's .ics, then this
    assert "- Status: Completed" in export.params["text"]


def test_done_with_nothing_written_completes_and_says_what_the_document_still_lacks(
    bot: BotHarness,
) -> None:
    done = completed_by_bob(bot)
    bot.settle()

    [completed] = posted(bot, "completed")
    lacks = (
        "The postmortem does not say yet what went wrong to cause it (the contributing factors) "
        "or how the incident response worked, and has no action item to keep it from happening "
        "again: its document and action items stay open, so add them with "
        "`/postmortem document #1` and `/postmortem action #1 @someone YYYY-MM-DD what to do`."
    )
    assert "Postmortem #1 is complete" in done
    assert lacks in done
    assert lacks in completed["text"]
    stored = bot.runtime.postmortems.get(postmortem_id=1)
    assert stored is not None
    assert stored.state is State.COMPLETED


def test_what_is_added_after_done_is_kept_as_the_completion_message_says(
    bot: BotHarness,
) -> None:
    completed_by_bob(bot)
    bot.settle()

    saved = bot.user("U0CAROL").submit_view(
        filled(
            document_form(bot, "U0CAROL", "document #1"),
            response="Paging worked; the status page lagged.",
        )
    )
    added = add_action_item(bot, "U0BOB", "#1 <@U0DAN> 2026-12-04 Alert on queue depth")

    assert errors(saved) == {}
    # With its number: it works as written wherever the channel has had other postmortems.
    assert any("`/postmortem export #1` posts it as Markdown." in t for t in told(bot, "U0CAROL"))
    assert "Added action item 1 to postmortem #1" in added


def test_done_after_the_document_and_an_action_item_are_written_says_nothing_is_missing(
    bot: BotHarness,
) -> None:
    held_by_bob(bot)
    bot.user("U0BOB").submit_view(
        filled(
            document_form(bot, "U0BOB"),
            contributing_factors="A config push and a retry storm.",
            response="Paged in 2 minutes; escalation was slow.",
        )
    )
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Alert on queue depth")
    done = bot.user("U0BOB").answer("done")
    bot.settle()

    [completed] = posted(bot, "completed")
    assert done == "Postmortem #1 is complete; I told the channel. Thank you!"
    assert "does not say yet" not in completed["text"]
    assert "`/postmortem export #1` posts its document as Markdown" in completed["text"]


def test_an_action_item_that_was_dropped_is_no_step_against_a_repeat(bot: BotHarness) -> None:
    held_by_bob(bot)
    bot.user("U0BOB").submit_view(
        filled(
            document_form(bot, "U0BOB"),
            contributing_factors="A config push and a retry storm.",
            response="Paged in 2 minutes.",
        )
    )
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Alert on queue depth")
    bot.user("U0BOB").answer("action drop 1 the queue is gone")
    done = bot.user("U0BOB").answer("done")

    bot.settle()

    [completed] = posted(bot, "completed")
    assert "The postmortem has no action item to keep it from happening again" in done
    assert "add one with `/postmortem action #1 @someone YYYY-MM-DD what to do`" in done
    assert "document #1" not in done
    assert (
        "Thank you all! Its action item was dropped. The postmortem has no action item"
        in (completed["text"])
    )


def test_an_action_item_is_marked_done_once_and_status_lists_only_the_open_ones(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    add_action_item(bot, "U0BOB", "<@U0DAN> 2026-12-04 Alert on queue depth")
    add_action_item(bot, "U0BOB", "<@U0BOB> 2026-12-10 Document the rollback")

    done = bot.user("U0DAN").answer("action done 1")
    again = bot.user("U0CAROL").answer("action done 1")
    missing = bot.user("U0CAROL").answer("action done 9")
    status = bot.user("U0BOB").answer("status")
    bot.settle()

    assert "Marked action item 1 of postmortem #1 done: Alert on queue depth" in done
    assert "Action item 1 was already marked done, by <@U0DAN>" in again
    assert "Postmortem #1 has no action item 9" in missing
    assert "2 action items (1 done)" in status
    assert "Alert on queue depth" not in status
    assert "    2. Document the rollback — <@U0BOB>, due Thu 10 Dec 2026" in status
    assert "`/postmortem action #1 done 2`" in status
    [told] = posted(bot, "action_item_done")
    assert "Action item 1 for *Checkout errors* (#1) is done" in told["text"]
    assert "marked by <@U0DAN>" in told["text"]
    trail = [what for _, _, what in bot.runtime.postmortems.audit_trail(postmortem_id=1)]
    assert trail.count("action_item_done") == 1


def test_an_action_item_for_a_bot_or_a_deactivated_account_is_refused(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.slack.add_user("U0PDBOT", is_bot=True)
    bot.slack.add_user("U0GONE", deleted=True)

    for_a_bot = add_action_item(bot, "U0BOB", "<@U0PDBOT> 2026-12-04 Alert on queue depth")
    for_the_gone = add_action_item(bot, "U0BOB", "<@U0GONE> 2026-12-04 Alert on queue depth")
    bot.settle()

    assert "<@U0PDBOT> is a bot. An action item needs a person as its owner" in for_a_bot
    assert "<@U0GONE>'s account is deactivated, so they can't own an action item" in for_the_gone
    assert posted(bot, "action_item_added") == []


def test_an_export_slack_refuses_for_good_is_told_to_whoever_asked(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.slack.fail_next("files.completeUploadExternal", "not_in_channel")

    bot.user("U0CAROL").answer("export")
    bot.settle()

    assert posted(bot, "document_export") == []
    [refused] = [t for t in told(bot, "U0CAROL") if "refused the export" in t]
    assert "postmortem #1's document (`not_in_channel`), so no file was posted" in refused
    assert "`/invite @postmortem-bot`, then run `/postmortem export` again" in refused


# Bob took it on Tuesday 24 November at 14:00 UTC; two working days later, in his working
# hours (the stand-in puts him in New York: 09:00 there is 14:00 UTC), is Thursday 14:00 UTC.
TWO_WORKING_DAYS_ON = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)


def test_an_owner_who_has_not_started_the_document_is_nudged_two_working_days_on(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)

    bot.clock.advance(TWO_WORKING_DAYS_ON - timedelta(minutes=10) - bot.clock())
    bot.dispatch()
    too_soon = posted(bot, "nudge_no_draft")
    bot.clock.advance(timedelta(minutes=10))
    bot.dispatch()

    assert too_soon == []
    [nudge] = posted(bot, "nudge_no_draft")
    assert "<@U0BOB>, the document for *Checkout errors* (#1) is not started yet" in nudge["text"]
    assert "`/postmortem document #1`" in nudge["text"]
    assert [b["text"]["text"] for b in nudge["blocks"][1]["elements"]] == ["Snooze 1 day"]


def test_no_document_nudge_once_anyone_has_started_the_document(bot: BotHarness) -> None:
    owned_by_bob(bot)
    form = document_form(bot, "U0CAROL")
    bot.user("U0CAROL").submit_view(filled(form, timeline="13:02 alert fired"))

    bot.clock.advance(TWO_WORKING_DAYS_ON - bot.clock())
    bot.dispatch()

    assert posted(bot, "document_started") != []
    assert posted(bot, "nudge_no_draft") == []


def snooze(bot: BotHarness, user: str, message: dict[str, Any]) -> None:
    [button] = [b for b in buttons(message["blocks"]) if b["action_id"] == "nudge.snooze"]
    bot.user(user).click({"action_id": "nudge.snooze", "value": button["value"]})
    bot.settle()


def test_no_document_nudge_when_the_document_was_started_before_anyone_owned_it(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    prompt = bot.slack.wait_for("chat.postMessage")[0].params["blocks"]
    form = document_form(bot, "U0CAROL")
    bot.user("U0CAROL").submit_view(filled(form, timeline="13:02 alert fired"))
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": buttons(prompt)[0]["value"]})
    bot.slack.wait_for("chat.update")

    bot.clock.advance(TWO_WORKING_DAYS_ON - bot.clock())
    bot.dispatch()

    assert posted(bot, "nudge_no_draft") == []


def test_a_hand_over_restarts_the_document_nudge_for_the_new_owner_only(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.clock.advance(datetime(2026, 11, 25, 15, tzinfo=UTC) - bot.clock())
    hand_over_to_carol(bot)  # Wednesday 15:00: two working days on is Friday 15:00

    bot.clock.advance(datetime(2026, 11, 30, 15, tzinfo=UTC) - bot.clock())
    bot.dispatch()

    [nudge] = posted(bot, "nudge_no_draft")
    assert "<@U0CAROL>, the document" in nudge["text"]


def test_snoozing_the_document_nudge_once_the_document_is_started_says_there_is_no_need(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.clock.advance(TWO_WORKING_DAYS_ON - bot.clock())
    bot.dispatch()
    [nudge] = posted(bot, "nudge_no_draft")
    form = document_form(bot, "U0CAROL")
    bot.user("U0CAROL").submit_view(filled(form, timeline="13:02 alert fired"))

    snooze(bot, "U0BOB", nudge)
    bot.clock.advance(timedelta(days=3))
    bot.dispatch()

    assert any("No need to snooze" in t for t in told(bot, "U0BOB"))
    assert len(posted(bot, "nudge_no_draft")) == 1


def test_a_new_owner_snoozing_the_old_owners_document_nudge_gets_it_once_a_day_later(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.clock.advance(TWO_WORKING_DAYS_ON - bot.clock())
    bot.dispatch()
    [bobs] = posted(bot, "nudge_no_draft")
    hand_over_to_carol(bot)  # her own would come on Monday

    snooze(bot, "U0CAROL", bobs)
    bot.clock.advance(timedelta(days=6))
    bot.dispatch()

    [_bobs, carols] = posted(bot, "nudge_no_draft")
    assert "<@U0CAROL>, the document" in carols["text"]
    assert any("Snoozed" in t for t in told(bot, "U0CAROL"))


def test_a_new_owner_after_the_deadline_is_nudged_that_the_meeting_is_overdue(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)  # resolved Tuesday 24 November: the meeting is due by 1 December
    bot.clock.advance(datetime(2026, 12, 1, 15, tzinfo=UTC) - bot.clock())
    hand_over_to_carol(bot)

    bot.clock.advance(datetime(2026, 12, 2, 16, tzinfo=UTC) - bot.clock())
    bot.dispatch()

    carols = [m for m in posted(bot, "nudge_no_meeting") if "<@U0CAROL>" in m["text"]]
    assert len(carols) == 1
    assert "it was due by" in carols[0]["text"]


def test_a_postmortem_no_tool_recorded_has_no_drafted_timeline(bot: BotHarness) -> None:
    owned_by_bob(bot)

    form = document_form(bot, "U0BOB")

    [timeline] = [b for b in form["blocks"] if b.get("block_id") == "document.timeline"]
    assert timeline["element"].get("initial_value") is None
    assert "drafted" not in json.dumps(form["blocks"])


def test_no_document_nudge_once_the_meeting_it_prepares_for_has_begun(bot: BotHarness) -> None:
    # "Write it while the responders remember; the meeting then discusses a draft": sent after
    # the meeting, next to "did it take place?", it contradicted that question.
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=1)))  # Wed 14:00
    bot.settle()

    bot.clock.advance(TWO_WORKING_DAYS_ON - bot.clock())  # Thursday, after the meeting
    bot.dispatch()
    bot.settle()

    assert posted(bot, "nudge_no_draft") == []
    assert len(posted(bot, "ask_mark_held")) == 1
