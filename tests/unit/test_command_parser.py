"""Parsing the text after `/postmortem`."""

from __future__ import annotations

import pytest

from bot.slack.commands import HandOver, Help, Invalid, Start, Status, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start", Start(None)),
        ("  START   Checkout errors  ", Start("Checkout errors")),
        ("start <!channel> checkout down", Start("@channel checkout down")),
        ("start DB &amp; cache &lt;3 for <@U0BOB|bob>", Start("DB & cache <3 for @bob")),
        ("owner <@U0BOB|bob>", HandOver("U0BOB")),
        ("owner <@W0ENTERPRISE>", HandOver("W0ENTERPRISE")),
        ("status", Status()),
        ("help", Help()),
        ("", Help()),
    ],
)
def test_known_subcommands_parse(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text", ["owner", "owner @bob", "owner <@U0BOB> <@U0CAROL>", "owner <#C0CHAN|general>"]
)
def test_owner_needs_exactly_one_escaped_user_mention(text: str) -> None:
    assert isinstance(parse(text), Invalid)


def test_an_unknown_subcommand_is_named_in_the_problem() -> None:
    result = parse("delete everything")

    assert isinstance(result, Invalid)
    assert "`delete`" in result.problem
