"""Blaming words in a postmortem's text: found where they blame, left alone where they don't,
and pointed out in one kind line."""

from __future__ import annotations

import pytest

from bot.domain.blameless import blameless_hint, blaming_phrases, blaming_phrases_added


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The root cause was human error.", ["root cause", "human error"]),
        ("ROOT-CAUSE: Human Errors in the runbook", ["root-cause", "human errors"]),
        ("We should have checked the dashboard first.", ["we should have"]),
        ("He shouldn't have deployed on a Friday.", ["he shouldn't have"]),
        ("Ops should've really noticed the alert.", ["ops should've"]),
        ("It was his fault; the vendor was at fault.", ["his fault", "at fault"]),
        ("Whose fault was it?", ["whose fault"]),
        (
            "It was Jane\u2019s fault: she shouldn\u2019t have merged it.",
            ["jane\u2019s fault", "she shouldn\u2019t have"],
        ),
        ("A careless change; carelessness in review.", ["careless", "carelessness"]),
        ("Negligence, or a negligent review.", ["negligence", "negligent"]),
        ("We blamed the network, then blamed each other.", ["blamed"]),
        (
            "A mistake by the on-call engineer; mistakes made by ops.",
            ["mistake by", "mistakes made by"],
        ),
        ("The outage was caused by <@U0BOB>.", ["caused by @someone"]),
        ("caused by @jane's deploy", ["caused by @someone"]),
    ],
)
def test_blaming_phrasing_is_found_whatever_its_case(text: str, found: list[str]) -> None:
    assert blaming_phrases(text) == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("<@U0BOB> broke the build.", ["@someone broke"]),
        ("<@U0BOB|bob> accidentally forgot the flag.", ["@someone accidentally forgot"]),
        (
            "@jane missed the page and @dan.ops failed to roll back.",
            ["@someone missed", "@someone failed to"],
        ),
        (
            "Then <@W0ALICE> ignored the alert; it was <@U0BOB>'s fault.",
            ["@someone ignored", "@someone's fault"],
        ),
    ],
)
def test_a_person_named_as_the_one_who_failed_is_quoted_without_their_name(
    text: str, found: list[str]
) -> None:
    # Quoting the mention back would ping them; "@someone" says which phrase it is.
    assert blaming_phrases(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "Fault tolerance kept the other region up; the system's fault-tolerant design held.",
        "It's fault tolerant by default, with fault injection tests.",
        "A faulty disk, then a segmentation fault and page faults.",
        "The disk's fault LED was on; PagerDuty's fault detection worked.",
        "The driver's fault handling, the rack's fault lights and the PSU's fault codes.",
        "We walked the system's fault tree; the switch's fault indicator and fault log agreed.",
        "The health check failed to detect it, and the deploy failed to roll back.",
        "Root causes: the cache expiry, the retry storm and the missing alert.",
        "There is no single root cause, and it was not human error.",
        "There was never a single root cause.",
        "It was not caused by human error, and not due to human error either.",
        "It wasn't a root cause; it was not the result of human error.",
        "The outage wasn\u2019t down to human error, and it was not because of a root cause.",
        "It was nobody's fault, and no one's fault: nobody is to blame.",
        "A blameless, blame-free, no-blame review; we don't blame anyone.",
        "Every service should have an owner, should have alerts and should have a runbook.",
        "The queue should have automated failover and should have detailed, documented limits.",
        "Monitoring should have paged us 20 minutes earlier.",
        "Rollback should have taken 2 minutes, but took 40.",
        "There should have been an alert on disk usage; the alert should have fired at 5%.",
        "The config should have been validated, and the deploy shouldn't have gone out.",
        "Latency was negligible. ops@example.com broke nothing.",
        "We made a mistake in the query by accident? no: the default was wrong.",
        "@jane noticed it first, and <@U0BOB> rolled it back.",
        "The config change caused the outage; the retry storm was caused by the cache.",
    ],
)
def test_systems_language_and_denials_are_not_taken_for_blame(text: str) -> None:
    assert blaming_phrases(text) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("<@U0BOB> should have rolled back sooner.", ["@someone should have"]),
        ("@jane.ops should\u2019ve known.", ["@someone should\u2019ve"]),
        ("I should have asked; you should have told me.", ["i should have", "you should have"]),
        (
            "Someone should have caught it, and somebody should've said so.",
            ["someone should have", "somebody should've"],
        ),
        ("They probably should have waited.", ["they probably should have"]),
        ("We all should have known better.", ["we all should have"]),
        (
            "The on-call engineer should not have silenced it.",
            ["the on-call engineer should not have"],
        ),
        (
            "The developer should have tested it; the reviewer should have seen it.",
            ["the developer should have", "the reviewer should have"],
        ),
        (
            "On-call should have escalated. The operators should have been watching.",
            ["on-call should have", "the operators should have"],
        ),
    ],
)
def test_hindsight_is_found_when_a_person_is_who_should_have(text: str, found: list[str]) -> None:
    # "We" too: the team judging itself in hindsight ("we should have caught this") stops
    # at the lapse instead of asking why catching it was hard at the time.
    assert blaming_phrases(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "We should have been paged 20 minutes earlier; the on-call should have been told.",
        "She should have an owner's access to the dashboards.",
        "You should have a runbook, and the team should have an owner.",
        "He checked it and the alert should have fired.",
    ],
)
def test_what_a_person_should_have_had_or_been_given_is_not_blame(text: str) -> None:
    # "We should have been paged": the person is who the system failed, not who failed.
    assert blaming_phrases(text) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("It was not the deploy but human error.", ["human error"]),
        ("Not only human error: a root cause too.", ["human error", "root cause"]),
        ("No alert fired, then a root cause was found.", ["root cause"]),
    ],
)
def test_a_denial_reaches_only_the_phrase_it_is_said_of(text: str, found: list[str]) -> None:
    assert blaming_phrases(text) == found


def test_each_phrase_is_named_once_in_the_order_written() -> None:
    text = "Human error. More human error, and a root cause. The root cause: human error."

    assert blaming_phrases(text) == ["human error", "root cause"]


def test_an_edit_is_answered_for_the_blaming_phrases_it_added_not_those_already_there() -> None:
    before = "Human error: the certficate expired. <@U0DAN> forgot to renew it."

    assert blaming_phrases_added(before, before.replace("certficate", "certificate")) == []
    assert blaming_phrases_added(before, "Human  Error. <@U0DAN> forgot, a root cause.") == [
        "root cause"
    ]
    assert blaming_phrases_added(before, before + " And <@U0BOB> forgot too.") == [
        "@someone forgot"
    ]
    assert blaming_phrases_added("", "The root cause was human error.") == [
        "root cause",
        "human error",
    ]


def test_the_hint_names_each_phrase_and_where_it_is_in_one_kind_line() -> None:
    hint = blameless_hint(
        {"summary": [], "contributing factors": ["human error", "we should have"], "timeline": []}
    )

    # One wording for blame and for hindsight alike: "we should have" names no one to
    # describe "rather than".
    assert hint == (
        "A thought on wording: “human error”, “we should have” (contributing factors) — try "
        "describing the conditions and decisions that led there, not who should have done "
        "what; postmortems are blameless."
    )
    assert "\n" not in hint


def test_the_hint_for_a_text_of_one_part_names_no_place() -> None:
    assert blameless_hint({"": ["@someone forgot"]}).startswith(
        "A thought on wording: “@someone forgot” — try describing"
    )


def test_the_hint_quotes_three_phrases_and_counts_the_rest() -> None:
    hint = blameless_hint(
        {"summary": ["human error", "root cause"], "timeline": ["should have", "@someone missed"]}
    )

    assert hint.startswith(
        "A thought on wording: “human error”, “root cause” (summary); “should have” (timeline) "
        "and 1 more — "
    )


def test_nothing_found_is_no_hint() -> None:
    assert blameless_hint({"summary": [], "impact": []}) == ""
    assert blameless_hint({}) == ""
