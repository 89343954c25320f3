"""Blaming words in a postmortem's text: found where they blame, left alone where they don't,
and pointed out in one kind line."""

from __future__ import annotations

import pytest

from bot.domain.blameless import blameless_hint, blaming_phrases


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The root cause was human error.", ["root cause", "human error"]),
        ("ROOT-CAUSE: Human Errors in the runbook", ["root-cause", "human errors"]),
        ("We should have checked the dashboard first.", ["should have"]),
        ("The deploy shouldn't have gone out on a Friday.", ["shouldn't have"]),
        ("Ops should've really noticed the alert.", ["should've"]),
        ("It was his fault; the vendor was at fault.", ["his fault", "at fault"]),
        ("Whose fault was it?", ["whose fault"]),
        (
            "It was Jane\u2019s fault: she shouldn\u2019t have merged it.",
            ["jane\u2019s fault", "shouldn\u2019t have"],
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
        "The health check failed to detect it, and the deploy failed to roll back.",
        "Root causes: the cache expiry, the retry storm and the missing alert.",
        "There is no single root cause, and it was not human error.",
        "There was never a single root cause.",
        "It was nobody's fault, and no one's fault: nobody is to blame.",
        "A blameless, blame-free, no-blame review; we don't blame anyone.",
        "Every service should have an owner, should have alerts and should have a runbook.",
        "The queue should have automated failover and should have detailed, documented limits.",
        "Latency was negligible. ops@example.com broke nothing.",
        "We made a mistake in the query by accident? no: the default was wrong.",
        "@jane noticed it first, and <@U0BOB> rolled it back.",
        "The config change caused the outage; the retry storm was caused by the cache.",
    ],
)
def test_systems_language_and_denials_are_not_taken_for_blame(text: str) -> None:
    assert blaming_phrases(text) == []


def test_each_phrase_is_named_once_in_the_order_written() -> None:
    text = "Human error. More human error, and a root cause. The root cause: human error."

    assert blaming_phrases(text) == ["human error", "root cause"]


def test_the_hint_names_each_phrase_and_where_it_is_in_one_kind_line() -> None:
    hint = blameless_hint(
        {"summary": [], "contributing factors": ["human error", "root cause"], "timeline": []}
    )

    assert hint == (
        "A thought on wording: “human error”, “root cause” (contributing factors) — try "
        "describing the conditions and decisions that led there rather than a person; "
        "postmortems are blameless."
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
