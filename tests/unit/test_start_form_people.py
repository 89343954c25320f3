"""The start form's owner-criteria fields refuse bots and deactivated accounts: the
inline errors' wording (plain text, with Slack's names) and which people are asked about."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from bot.slack.people import NoOwner, NotAPerson, PeopleCheck, slack_name, what_they_are
from bot.slack.start_form import no_owner_errors, people_named, read_start_form

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def values(**people: tuple[str, ...]) -> dict[str, Any]:
    filled: dict[str, Any] = {"title": {"title": {"type": "plain_text_input", "value": "Down"}}}
    for field, ids in people.items():
        filled[field] = {field: {"type": "multi_users_select", "selected_users": list(ids)}}
    return filled


def bot(user_id: str, name: str) -> NoOwner:
    return NoOwner(user_id, NotAPerson.BOT, name)


def test_the_people_of_fields_without_an_error_are_asked_about() -> None:
    form, errors = read_start_form(
        values(led_response=("U0A", "U0B"), primary_on_call=("U0B", "U0C")), NOW
    )

    assert errors == {}
    assert people_named(form, errors) == ["U0A", "U0B", "U0B", "U0C"]
    assert people_named(form, {"led_response": "…"}) == ["U0B", "U0C"]


def test_many_bots_in_one_field_are_named_up_to_three_and_counted() -> None:
    ids = ("U01", "U02", "U03", "U04", "U05", "U0ANN")
    form, _ = read_start_form(values(primary_on_call=ids), NOW)
    no_owners = {i: bot(i, f"bot-{i[-1]}") for i in ids[:5]}

    errors = no_owner_errors(form, no_owners)

    assert errors == {
        "primary_on_call": "bot-1, bot-2, bot-3 and 2 more are bots: only a person can own a "
        "postmortem. Pick the person who was the primary on-call for the most heavily affected "
        "service instead, or remove them."
    }


def test_several_deactivated_accounts_are_said_in_a_sentence() -> None:
    form, _ = read_start_form(values(led_response=("U0A", "U0B")), NOW)
    gone = {i: NoOwner(i, NotAPerson.DEACTIVATED, n) for i, n in (("U0A", "Ann"), ("U0B", "Ben"))}

    assert no_owner_errors(form, gone)["led_response"].startswith(
        "The accounts of Ann and Ben are deactivated: only a person with an active Slack "
        "account can own a postmortem."
    )


def test_a_form_naming_only_people_has_no_error() -> None:
    form, _ = read_start_form(values(led_response=("U0A",)), NOW)

    assert no_owner_errors(form, {"U0Z": bot("U0Z", "z")}) == {}


def test_what_slack_says_of_a_user_and_the_name_it_shows() -> None:
    assert what_they_are("U0A", {"is_bot": True}) is NotAPerson.BOT
    assert what_they_are("USLACKBOT", {"is_bot": False}) is NotAPerson.BOT
    assert what_they_are("U0A", {"deleted": True}) is NotAPerson.DEACTIVATED
    assert what_they_are("U0A", {"is_bot": False, "deleted": False}) is None
    profile = {"display_name": " ", "real_name": "Ann A"}
    assert slack_name("U0A", {"profile": profile, "real_name": "Ann A"}) == "Ann A"
    assert slack_name("U0A", {"name": "ann"}) == "ann"
    assert slack_name("U0A", {}) == "U0A"


def test_the_check_is_shared_with_lazy_listeners_not_copied() -> None:
    """Bolt deep-copies a request's context for its lazy listeners (and logs, for a value
    it cannot copy, that it left it out): the check's threads are shared."""
    check = PeopleCheck(WebClient(token="xoxb-test"))
    try:
        assert copy.deepcopy(check) is check
    finally:
        check.close()
