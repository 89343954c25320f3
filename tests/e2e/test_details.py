"""Correcting a postmortem's details with `/postmortem details`: the form, what the channel
is told, the meeting's deadline following a new resolution time, and forms that cross,
through the real HTTP app and the Slack stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import BotFactory, BotHarness
from tests.e2e.test_document import told
from tests.e2e.test_incident_webhook import incident, send
from tests.support.lifecycle import errors, owned_by_bob, posted, schedule_form


def details_form(bot: BotHarness, user: str, command: str = "details") -> dict[str, Any]:
    """The details form ``user`` opens with `/postmortem details`."""
    opened_before = len(bot.slack.calls("views.open"))
    assert bot.user(user).answer(command) == ""
    opened = bot.slack.wait_for("views.open", count=opened_before + 1)[-1]
    return dict(opened.params["view"])


def shown(view: dict[str, Any]) -> dict[str, Any]:
    """What each input of ``view`` shows, by block_id."""
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    return {
        "title": inputs["title"].get("initial_value"),
        "severity": (inputs["severity"].get("initial_option") or {}).get("value"),
        "resolved_at": inputs["resolved_at"]["initial_date_time"],
        "false_alarm": bool(inputs["false_alarm"].get("initial_options")),
    }


def filled(view: dict[str, Any], **typed: Any) -> dict[str, Any]:
    """``view`` as Slack sends it back: what it showed, with ``typed`` chosen over it
    (``resolved_at`` as a datetime)."""
    values = {**shown(view), **typed}
    resolved = values["resolved_at"]
    epoch = int(resolved.timestamp()) if isinstance(resolved, datetime) else resolved
    severity = values["severity"]
    option = {"text": {"type": "plain_text", "text": severity}, "value": severity}
    checked = [{"value": "yes"}] if values["false_alarm"] else []
    state = {
        "title": {"title": {"type": "plain_text_input", "value": values["title"]}},
        "severity": {
            "severity": {"type": "static_select", "selected_option": option if severity else None}
        },
        "resolved_at": {"resolved_at": {"type": "datetimepicker", "selected_date_time": epoch}},
        "false_alarm": {"false_alarm": {"type": "checkboxes", "selected_options": checked}},
    }
    return {**view, "id": "V0DETAILS", "state": {"values": state}}


def test_correcting_details_tells_the_channel_what_each_was_and_keeps_both_in_the_audit(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)

    form = details_form(bot, "U0CAROL")
    saved = bot.user("U0CAROL").submit_view(
        filled(
            form, title="Checkout errors after the 14:00 deploy", severity="SEV2", false_alarm=True
        )
    )
    bot.settle()

    assert form["callback_id"] == "postmortem.details"
    assert shown(form) == {
        "title": "Checkout errors",
        "severity": None,
        "resolved_at": int(bot.clock().timestamp()),
        "false_alarm": False,
    }
    assert errors(saved) == {}
    [said] = [m["text"] for m in posted(bot, "details_corrected")]
    assert said.startswith(":pencil2: <@U0CAROL> corrected the details of postmortem #1 ")
    assert "• Title: *Checkout errors after the 14:00 deploy* (was *Checkout errors*)" in said
    assert "• Severity: SEV2 (was none)" in said
    assert "• False alarm: yes (was no)" in said
    assert "Resolved" not in said  # unchanged, so not said
    assert told(bot, "U0CAROL")[-1] == (
        "Saved postmortem #1's details; I told the channel what changed."
    )
    assert "Checkout errors after the 14:00 deploy" in bot.user("U0BOB").answer("status")
    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)
    assert [(who, what) for _, who, what in trail][-1] == ("U0CAROL", "details_corrected")
    reopened = shown(details_form(bot, "U0BOB"))
    assert reopened["title"] == "Checkout errors after the 14:00 deploy"
    assert reopened["severity"] == "SEV2"
    assert reopened["false_alarm"] is True


def test_an_earlier_resolution_time_brings_the_overdue_notice_forward_with_the_deadline(
    bot: BotHarness,
) -> None:
    # Started by hand on Tuesday 14:00, "resolved now"; in fact it was resolved on Sunday.
    owned_by_bob(bot)
    sunday = bot.clock() - timedelta(days=2)

    form = details_form(bot, "U0BOB")
    assert errors(bot.user("U0BOB").submit_view(filled(form, resolved_at=sunday))) == {}
    bot.settle()
    [said] = [m["text"] for m in posted(bot, "details_corrected")]
    # Monday 30 November, 10:00: past the new deadline (Sunday 29th, 14:00) and into working
    # hours; the deadline counted from Tuesday would be a day ahead still.
    bot.clock.advance(timedelta(days=5, hours=20))
    bot.dispatch()

    assert f"• Resolved: <!date^{int(sunday.timestamp())}^" in said
    deadline = sunday + timedelta(days=7)
    assert f"The meeting is now due by <!date^{int(deadline.timestamp())}^" in said
    assert len(posted(bot, "escalate_overdue")) == 1
    assert "due by" in bot.user("U0BOB").answer("status")


def test_a_later_resolution_time_puts_the_overdue_notice_back(bot: BotHarness) -> None:
    owned_by_bob(bot)
    wednesday = bot.clock() + timedelta(days=1) - timedelta(hours=1)  # 13:00 tomorrow

    bot.clock.advance(timedelta(days=1))
    form = details_form(bot, "U0BOB")
    assert errors(bot.user("U0BOB").submit_view(filled(form, resolved_at=wednesday))) == {}
    bot.settle()
    bot.clock.advance(timedelta(days=6, hours=1))  # Wednesday 2 December, 15:00
    bot.dispatch()
    on_time = posted(bot, "escalate_overdue")
    bot.clock.advance(timedelta(hours=23))  # past the deadline counted from Wednesday
    bot.dispatch()

    assert on_time == []  # Tuesday's deadline no longer applies
    assert len(posted(bot, "escalate_overdue")) == 1


def test_an_overdue_notice_already_sent_is_not_sent_again_for_an_earlier_resolution(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.clock.advance(timedelta(days=7, hours=1))
    bot.dispatch()
    assert len(posted(bot, "escalate_overdue")) == 1

    form = details_form(bot, "U0BOB")
    earlier = bot.clock() - timedelta(days=9)
    assert errors(bot.user("U0BOB").submit_view(filled(form, resolved_at=earlier))) == {}
    bot.settle()
    bot.clock.advance(timedelta(hours=1))
    bot.dispatch()

    assert len(posted(bot, "escalate_overdue")) == 1
    assert len(posted(bot, "details_corrected")) == 1


def test_a_detail_someone_changed_since_the_form_opened_is_refused_inline_not_overwritten(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bobs = details_form(bot, "U0BOB")
    carols = details_form(bot, "U0CAROL")
    assert errors(bot.user("U0BOB").submit_view(filled(bobs, title="Bob's title"))) == {}

    refused = errors(bot.user("U0CAROL").submit_view(filled(carols, title="Carol's title")))
    kept = errors(bot.user("U0CAROL").submit_view(filled(carols, severity="SEV1")))
    bot.settle()

    assert list(refused) == ["title"]
    assert "Someone changed this to “Bob's title” since you opened this form" in refused["title"]
    assert kept == {}  # she changed only the severity: Bob's title stays
    current = shown(details_form(bot, "U0ALICE"))
    assert (current["title"], current["severity"]) == ("Bob's title", "SEV1")
    assert len(posted(bot, "details_corrected")) == 2


def test_a_resolution_time_someone_changed_meanwhile_is_named_in_the_workspaces_zone(
    make_bot: BotFactory,
) -> None:
    bot = make_bot(policy="workspace_timezone: Europe/Berlin\n")
    owned_by_bob(bot)  # opened by Alice, owned by Bob: both may move the resolution time
    bobs = details_form(bot, "U0BOB")
    alices = details_form(bot, "U0ALICE")
    monday_3pm = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert errors(bot.user("U0BOB").submit_view(filled(bobs, resolved_at=monday_3pm))) == {}

    refused = errors(
        bot.user("U0ALICE").submit_view(filled(alices, resolved_at=monday_3pm - timedelta(hours=2)))
    )

    # A form's error is plain text, which cannot show a Slack date in each reader's zone.
    assert refused == {
        "resolved_at": "Someone changed this to Mon 23 Nov 2026 15:00 in Europe/Berlin since "
        "you opened this form. Close it and run `/postmortem details` again to see the "
        "details as they are now."
    }


def test_a_webhooks_p2_is_corrected_to_p1_from_the_p_scale_the_form_offers(
    incident_bot: BotFactory,
) -> None:
    bot = incident_bot()
    assert send(bot, incident(severity="P2", channel="C0INCIDENT")).status_code == 201
    bot.settle()

    form = details_form(bot, "U0CAROL")
    [severity] = [b for b in form["blocks"] if b.get("block_id") == "severity"]
    assert errors(bot.user("U0CAROL").submit_view(filled(form, severity="P1"))) == {}

    assert [o["value"] for o in severity["element"]["options"]] == [
        "P1",
        "P2",
        "P3",
        "P4",
        "P5",
        "-",
    ]
    assert shown(details_form(bot, "U0ALICE"))["severity"] == "P1"


def test_saving_the_form_unchanged_says_so_and_tells_the_channel_nothing(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)

    form = details_form(bot, "U0BOB")
    assert errors(bot.user("U0BOB").submit_view(filled(form))) == {}
    bot.settle()

    assert posted(bot, "details_corrected") == []
    assert told(bot, "U0BOB")[-1] == "Nothing changed in postmortem #1's details."


def test_a_new_title_shows_on_the_owner_prompt_while_nobody_owns_it(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.slack.wait_for("chat.postMessage")
    bot.settle()

    form = details_form(bot, "U0ALICE")
    bot.user("U0ALICE").submit_view(filled(form, title="Payments down", severity="SEV1"))
    [update] = bot.slack.wait_for("chat.update")

    assert update.params["text"] == "Postmortem: Payments down — this needs exactly one owner."
    assert "severity *SEV1*" in json.dumps(update.params["blocks"])


def test_bad_details_are_refused_inline_and_nothing_is_stored(bot: BotHarness) -> None:
    owned_by_bob(bot)
    form = details_form(bot, "U0BOB")
    tomorrow = bot.clock() + timedelta(days=1)

    future = errors(bot.user("U0BOB").submit_view(filled(form, resolved_at=tomorrow)))
    blank = errors(bot.user("U0BOB").submit_view(filled(form, title="   ")))
    too_long = errors(bot.user("U0BOB").submit_view(filled(form, title="x" * 301)))
    lost = errors(
        bot.user("U0BOB").submit_view({**filled(form, title="New"), "private_metadata": "{"})
    )
    bot.settle()

    assert future == {"resolved_at": "The resolution time can't be in the future."}
    assert list(blank) == ["title"]
    assert too_long == {"title": "Keep the title to 300 characters."}
    assert "lost track of its postmortem" in lost["title"]
    assert posted(bot, "details_corrected") == []
    assert shown(details_form(bot, "U0BOB"))["title"] == "Checkout errors"


def test_details_are_refused_for_a_cancelled_postmortem_or_one_that_is_not_here(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("cancel opened twice: #2 is this incident's")

    cancelled = bot.user("U0BOB").answer("details #1")
    missing = bot.user("U0BOB").answer("details #99")
    elsewhere = bot.user("U0BOB").answer("details", channel_id="C0QUIET")

    assert cancelled.startswith("I can't change postmortem #1's details: it was cancelled.")
    assert missing.startswith("There is no postmortem #99.")
    assert elsewhere.startswith("There is no open postmortem in this channel.")
    assert bot.slack.calls("views.open") == []


def test_only_those_who_answer_for_it_may_move_the_resolution_time(bot: BotHarness) -> None:
    owned_by_bob(bot)  # Alice opened it, Bob owns it
    earlier = bot.clock() - timedelta(hours=3)

    carols = details_form(bot, "U0CAROL")
    refused = errors(bot.user("U0CAROL").submit_view(filled(carols, resolved_at=earlier)))
    alices = details_form(bot, "U0ALICE")
    allowed = errors(bot.user("U0ALICE").submit_view(filled(alices, resolved_at=earlier)))
    bot.settle()

    assert list(refused) == ["resolved_at"]
    # Plain text, as Slack shows a form's errors: no mention, which would show as "<@U0BOB>".
    assert refused["resolved_at"] == (
        "The resolution time sets the meeting's deadline, so only its owner, whoever opened "
        "it or an incident manager can change it. `/postmortem status #1` names its owner."
    )
    assert allowed == {}
    [said] = [m["text"] for m in posted(bot, "details_corrected")]
    assert said.startswith(":pencil2: <@U0ALICE> corrected")


def test_a_details_form_without_its_resolution_time_is_refused_not_taken_as_now(
    bot: BotHarness,
) -> None:
    owned_by_bob(bot)
    form = filled(details_form(bot, "U0BOB"), title="Payments down")
    del form["state"]["values"]["resolved_at"]

    refused = errors(bot.user("U0BOB").submit_view(form))

    assert refused == {"resolved_at": "Pick the date and time it was resolved."}


def test_a_meeting_left_after_a_moved_deadline_is_pointed_out(bot: BotHarness) -> None:
    owned_by_bob(bot)
    bot.user("U0BOB").answer("schedule")
    bot.user("U0BOB").submit_view(schedule_form(bot, after=timedelta(days=2)))
    bot.settle()

    form = details_form(bot, "U0BOB")
    six_days_earlier = bot.clock() - timedelta(days=6)  # due in a day, the meeting in two
    assert errors(bot.user("U0BOB").submit_view(filled(form, resolved_at=six_days_earlier))) == {}
    bot.settle()

    [said] = [m["text"] for m in posted(bot, "details_corrected")]
    assert "is after that now: move it earlier with `/postmortem schedule #1`" in said


def test_the_details_forms_inline_errors_name_no_one_by_markup_slack_would_show_raw(
    bot: BotHarness,
) -> None:
    """Slack shows a form's errors as plain text: a mention or a channel link there shows
    as ``<@U0BOB>`` or ``<#C0INCIDENT>``."""
    owned_by_bob(bot)  # Alice opened it, Bob owns it
    earlier = bot.clock() - timedelta(hours=3)

    carols = details_form(bot, "U0CAROL")
    moved_too = errors(
        bot.user("U0CAROL").submit_view(filled(carols, resolved_at=earlier, title="Cart down"))
    )
    # A form whose postmortem is in another channel than the one it opened in (moved since).
    elsewhere = filled(details_form(bot, "U0BOB"), title="Cart down")
    metadata = json.loads(elsewhere["private_metadata"])
    elsewhere["private_metadata"] = json.dumps({**metadata, "channel": "C0QUIET"})
    not_here = errors(bot.user("U0BOB").submit_view(elsewhere))

    said = [*moved_too.values(), *not_here.values()]
    assert len(said) == 2
    for text in said:
        assert "<@" not in text
        assert "<#" not in text
        assert not any(raw in text for raw in ("U0BOB", "U0ALICE", "C0INCIDENT"))
    assert moved_too["resolved_at"].endswith(
        "names its owner. Your other changes are not saved either: save them without it."
    )
    assert not_here == {
        "title": "Postmortem #1 belongs to another channel now: run the command there."
    }
    assert posted(bot, "details_corrected") == []
