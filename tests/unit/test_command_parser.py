"""Parsing the text after `/postmortem`."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.domain.postmortem import pagerduty_incident_id
from bot.slack.commands import (
    USAGE,
    AddActionItem,
    Cancel,
    ChangeActionItem,
    CompleteActionItem,
    CorrectDetails,
    Done,
    DropActionItem,
    Export,
    HandOver,
    Held,
    Help,
    Invalid,
    MoveHere,
    MyActionItems,
    Schedule,
    Start,
    Status,
    StatusEverywhere,
    WriteDocument,
    parse,
    usage_for,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start", Start(None)),
        ("  START   Checkout errors  ", Start("Checkout errors")),
        ("start <!channel> checkout down", Start("@channel checkout down")),
        ("start \u200b", Start(None)),  # nothing visible: the form asks for a title
        ("start DB &amp; cache &lt;3 for <@U0BOB|bob>", Start("DB & cache <3 for @bob")),
        ("owner <@U0BOB|bob>", HandOver("U0BOB")),
        ("owner <@W0ENTERPRISE>", HandOver("W0ENTERPRISE")),
        ("owner #3 <@U0BOB|bob>", HandOver("U0BOB", 3)),
        ("held #2", Held(2)),
        ("held early", Held(None, early=True)),
        ("held #2 Early", Held(2, early=True)),
        ("held unscheduled", Held(None, unscheduled=True)),
        ("held #4 unscheduled", Held(4, unscheduled=True)),
        ("done", Done()),
        ("schedule #12", Schedule(12)),
        ("status", Status()),
        ("status ALL", StatusEverywhere()),
        ("status #4", Status(4)),
        ("help", Help()),
        ("", Help()),
        ("cancel opened twice", Cancel("opened twice")),
        ("action drop 2 the queue is gone", DropActionItem(2, "the queue is gone")),
        ("action #3 DROP 1 given to <@U0BOB|bob>", DropActionItem(1, "given to @bob", 3)),
        ("action due 2 2026-12-18", ChangeActionItem(2, due_on=date(2026, 12, 18))),
        ("action #3 owner 1 <@U0JANE|jane>", ChangeActionItem(1, owner="U0JANE", postmortem_id=3)),
        ("cancel #3 a test, not an incident", Cancel("a test, not an incident", 3)),
        ("cancel dup of <@U0BOB|bob>'s", Cancel("dup of @bob's")),
    ],
)
def test_known_subcommands_parse(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text", ["owner", "owner @bob", "owner <@U0BOB> <@U0CAROL>", "owner <#C0CHAN|general>"]
)
def test_owner_needs_exactly_one_escaped_user_mention(text: str) -> None:
    assert isinstance(parse(text), Invalid)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("owner <@U0CAROL> #1", HandOver("U0CAROL", 1)),
        ("#1 owner <@U0CAROL>", HandOver("U0CAROL", 1)),
        ("#2 held", Held(2)),
        ("held early #2", Held(2, early=True)),
        ("done #3", Done(3)),
        ("status #4", Status(4)),
        ("action done #2", CompleteActionItem(2)),
        ("action #3 done #2", CompleteActionItem(2, 3)),
        ("action due #2 2026-12-18", ChangeActionItem(2, due_on=date(2026, 12, 18))),
        ("action drop #2 not needed", DropActionItem(2, "not needed")),
        # An action item's text and a reason may end in a number of their own.
        (
            "action <@U0JANE> 2026-12-04 Fix bug #12",
            AddActionItem("U0JANE", date(2026, 12, 4), "Fix bug #12"),
        ),
        ("cancel duplicate of #12", Cancel("duplicate of #12")),
    ],
)
def test_a_postmortem_or_item_number_is_read_wherever_people_put_it(
    text: str, expected: object
) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("action #1 drop 2", "`/postmortem action #1 drop 2 replaced by item 3"),
        ("action #1 due 2", "`/postmortem action #1 due 2 2026-12-18`"),
        ("action #1 owner 2 jane", "`/postmortem action #1 owner 2 @jane`"),
        ("action #1 <@U0JANE>", "`/postmortem action #1 @jane 2026-12-04 Alert on queue depth`"),
    ],
)
def test_the_example_for_a_bad_argument_keeps_the_postmortem_number_typed(
    text: str, example: str
) -> None:
    parsed = parse(text)

    assert isinstance(parsed, Invalid)
    assert example in parsed.problem


def test_a_bad_argument_is_followed_by_that_commands_usage_not_every_commands() -> None:
    owner = usage_for("owner bob")
    numbered = usage_for("#2 action done")

    assert owner.startswith("*Usage*\n• `/postmortem owner [#N] @someone` — name the owner")
    assert owner.endswith("`/postmortem help` lists every command.")
    assert "/postmortem start" not in owner
    assert "`/postmortem action [#N] @someone YYYY-MM-DD what to do`" in numbered
    assert usage_for("frobnicate") == USAGE


def test_an_unknown_subcommand_is_named_in_the_problem() -> None:
    result = parse("delete everything")

    assert isinstance(result, Invalid)
    assert "`delete`" in result.problem


@pytest.mark.parametrize(
    "text", ["held #x", "done #2 now", "schedule tomorrow", "status everything", "status #2 all"]
)
def test_lifecycle_subcommands_take_only_a_postmortem_number(text: str) -> None:
    parsed = parse(text)

    assert isinstance(parsed, Invalid)
    assert "at most a postmortem number" in parsed.problem


@pytest.mark.parametrize(
    "text", ["done #99999999999", "status #1234567890", "owner #10000000000 <@U0B>"]
)
def test_a_postmortem_number_too_long_to_exist_is_said_not_to_exist(text: str) -> None:
    parsed = parse(text)

    assert isinstance(parsed, Invalid)
    assert parsed.problem.startswith("There is no postmortem #")


def test_move_takes_exactly_one_postmortem_number() -> None:
    assert parse("move #3") == MoveHere(3)
    for text in ("move", "move 3", "move #3 now", "move <@U0BOB>"):
        parsed = parse(text)
        assert isinstance(parsed, Invalid), text
        assert "`/postmortem move` needs the number" in parsed.problem


PD = "https://acme.pagerduty.com/incidents/Q1ABC"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"start <{PD}> Checkout errors", Start("Checkout errors", PD)),
        (f"start Checkout errors <{PD}|{PD}>", Start("Checkout errors", PD)),
        (f"start {PD}/timeline?x=1", Start(None, PD)),  # the link alone: the form asks the rest
        (
            "start <https://acme.eu.pagerduty.com/incidents/PT4KHLK>",
            Start(None, "https://acme.eu.pagerduty.com/incidents/PT4KHLK"),
        ),
        # Any case in the address; the id as PagerDuty writes it, in capitals.
        (
            "start <https://Acme.PagerDuty.com/incidents/q1abc> Outage",
            Start("Outage", "https://Acme.PagerDuty.com/incidents/q1abc"),
        ),
        # Not PagerDuty's, or inside another address: words of the title like any other.
        ("start <https://example.com/incidents/Q1>", Start("https://example.com/incidents/Q1")),
        (
            f"start see <https://status.example.com/?from={PD}>",
            Start(f"see https://status.example.com/?from={PD}"),
        ),
    ],
)
def test_a_pagerduty_incident_link_in_start_is_taken_out_of_the_title(
    text: str, expected: Start
) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "start <https://acme.pagerduty.com/services/P1> Outage",
        "start <https://acme.pagerduty.com/alerts/Q1ABC> Outage",
        "start https://acme.pagerduty.com/incidents Outage",
    ],
)
def test_a_pagerduty_link_that_is_not_an_incidents_is_refused_with_what_to_paste(
    text: str,
) -> None:
    request = parse(text)

    assert isinstance(request, Invalid)
    assert "https://your-account.pagerduty.com/incidents/Q1ABC" in request.problem


# Arabic-Indic three, fullwidth three, and a superscript two after an ASCII three.
@pytest.mark.parametrize("text", ["status #\u0663", "held #\uff13", "status #3\u00b2"])
def test_a_postmortem_number_is_written_in_ascii_digits(text: str) -> None:
    assert isinstance(parse(text), Invalid)


def test_a_reason_starting_with_a_hash_and_a_number_is_not_a_postmortem_number() -> None:
    assert parse("cancel #2nd page, duplicate") == Cancel("#2nd page, duplicate")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("details", CorrectDetails()),
        ("Details #4", CorrectDetails(4)),
        (
            "details #4 title",
            Invalid("`/postmortem details` takes at most a postmortem number, like `#2`."),
        ),
    ],
)
def test_correcting_the_details_takes_at_most_a_postmortem_number(
    text: str, expected: object
) -> None:
    assert parse(text) == expected


def test_the_incident_id_of_a_link_is_read_in_capitals() -> None:
    assert pagerduty_incident_id("https://acme.pagerduty.com/incidents/q1abc") == "Q1ABC"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("document", WriteDocument()),
        ("doc #2", WriteDocument(2)),
        ("export", Export()),
        ("action done 2", CompleteActionItem(2)),
        ("action #3 DONE 12", CompleteActionItem(12, 3)),
        ("EXPORT #3", Export(3)),
        (
            "action <@U0DAN|dan> 2026-12-04 Alert on <https://x.example/q|queue> depth",
            AddActionItem("U0DAN", date(2026, 12, 4), "Alert on queue depth"),
        ),
        (
            "action #2 <@U0DAN> 2026-12-04 Alert",
            AddActionItem("U0DAN", date(2026, 12, 4), "Alert", 2),
        ),
        ("action mine", MyActionItems()),
        ("ACTION Mine", MyActionItems()),
    ],
)
def test_writing_the_document_its_action_items_and_its_export_parse(
    text: str, expected: object
) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("action", "needs the owner, the due date and what is to be done"),
        ("action Alert on queue depth", "needs the owner, the due date"),
        ("action <@U0DAN> 2026-12-04", "needs the owner, the due date"),
        ("action <@U0DAN> tomorrow Alert", "`tomorrow` is not a date: write the due date as"),
        ("action <@U0DAN> 2026-02-30 Alert", "`2026-02-30` is not a date"),
        ("action done", "`/postmortem action done` needs the action item's number"),
        ("action done two", "`/postmortem action done` needs the action item's number"),
        ("action done #3 1", "its number comes first: `/postmortem action #3 done 2`"),
        ("action #2 mine", "`/postmortem action mine` takes nothing more"),
        ("action mine please", "`/postmortem action mine` takes nothing more"),
        ("action 2026-12-04 <@U0JANE|jane> Alert", "Put the owner first, then the due date"),
        ("document now", "`/postmortem document` takes at most a postmortem number"),
        ("export everything", "`/postmortem export` takes at most a postmortem number"),
        ("held yesterday", "then `early` if the meeting took place before its scheduled time"),
        ("action due 2", "`/postmortem action due` needs the action item's number and its new"),
        ("action due 2 friday", "`friday` is not a date: write the due date as YYYY-MM-DD"),
        ("action owner 2 jane", "`/postmortem action owner` needs the action item's number and"),
    ],
)
def test_a_malformed_document_command_says_what_to_type(text: str, says: str) -> None:
    result = parse(text)

    assert isinstance(result, Invalid)
    assert says in result.problem


@pytest.mark.parametrize("text", ["cancel", "cancel #3", "cancel \u200b"])
def test_cancel_needs_a_reason_and_says_what_cancelling_is_for(text: str) -> None:
    request = parse(text)

    assert isinstance(request, Invalid)
    assert request.problem.startswith("`/postmortem cancel` needs the reason")
    assert "A false alarm or a smaller incident than it seemed still gets its postmortem" in (
        request.problem
    )


def test_a_cancel_reason_is_kept_short_enough_to_read_in_the_channel() -> None:
    request = parse("cancel " + "x" * 501)

    assert request == Invalid("The reason is 501 characters; keep it to 500.")


@pytest.mark.parametrize(
    "text", ["action drop", "action drop 2", "action drop x why", "action drop 2 \u200b"]
)
def test_dropping_an_action_item_needs_its_number_and_why(text: str) -> None:
    request = parse(text)

    assert isinstance(request, Invalid)
    assert request.problem.startswith("`/postmortem action drop` needs the action item's number")


@pytest.mark.parametrize(
    "text", ["cancel false alarm", "cancel It was a false alarm.", "cancel #2 false-positive"]
)
def test_a_false_alarm_alone_is_no_reason_to_cancel(text: str) -> None:
    request = parse(text)

    assert isinstance(request, Invalid)
    assert request.problem.startswith("A false alarm is no reason to cancel: it still gets its")


def test_a_reason_that_says_more_than_false_alarm_is_taken() -> None:
    assert parse("cancel false alarm, and opened twice: #3 is it") == Cancel(
        "false alarm, and opened twice: #3 is it"
    )


# What each placeholder of the usage stands for, as Slack sends it.
_TYPED = {
    "@someone": "<@U0JANE|jane>",
    "YYYY-MM-DD": "2026-12-04",
    "<why>": "opened twice",
    "[title]": "Checkout errors",
    "https://…pagerduty.com": "https://acme.pagerduty.com",
}
_USAGE_COMMAND = re.compile(r"`/postmortem ([^`]*)`")


def _typed(usage: str, number: str) -> str:
    for placeholder, value in _TYPED.items():
        usage = usage.replace(placeholder, value)
    return usage.replace("[#N]", number).replace("#N", "#3")


def test_every_command_the_help_shows_is_one_the_parser_takes_with_and_without_a_number() -> None:
    shown = _USAGE_COMMAND.findall(USAGE)

    assert len(shown) > 20
    for usage in shown:
        assert not isinstance(parse(_typed(usage, "")), Invalid), usage
        if "[#N]" in usage:
            numbered = parse(_typed(usage, "#2"))
            assert getattr(numbered, "postmortem_id", None) == 2, usage


def _usage_line(verb: str) -> str:
    [line] = [line for line in USAGE.splitlines() if re.match(f"• `/postmortem {verb}[ `]", line)]
    return line


# Every command that takes a postmortem's number (all but start, help and move, which needs it).
NUMBERED = ("owner", "status", "details", "schedule", "held", "document", "action", "export")


@pytest.mark.parametrize("verb", [*NUMBERED, "done", "cancel"])
def test_the_help_shows_the_postmortem_number_wherever_a_command_takes_one(verb: str) -> None:
    assert _usage_line(verb).startswith(f"• `/postmortem {verb} [#N]")


def test_the_help_says_held_waits_for_the_meetings_time_unless_it_was_early() -> None:
    held = _usage_line("held")

    assert "once its scheduled time has come" in held
    assert "`/postmortem held [#N] early` if it took place before its scheduled time" in held
