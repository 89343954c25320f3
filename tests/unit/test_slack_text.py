"""People's words in Slack messages: markup undone on the way in, escaped on the way out."""

from __future__ import annotations

import pytest

from bot.slack.text import escape, plain, unlinked


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("<!channel> checkout down", "@channel checkout down"),
        ("<!here> and <!everyone>", "@here and @everyone"),
        ("paged <!subteam^S0ONCALL|@oncall>", "paged @oncall"),
        ("<@U0BOB|bob> and <@U0CAROL>", "@bob and @U0CAROL"),
        ("in <#C0OPS|ops>", "in #ops"),
        ("see <https://status.example.com|status page>", "see status page"),
        ("<https://status.example.com>", "https://status.example.com"),
        ("p99 &gt; 2s &amp; errors &lt; 1%", "p99 > 2s & errors < 1%"),
        ("nothing to undo", "nothing to undo"),
    ],
)
def test_plain_turns_slack_markup_back_into_what_the_person_saw(typed: str, seen: str) -> None:
    assert plain(typed) == seen


def test_escaped_text_can_neither_mention_nor_link() -> None:
    shown = escape("<!channel> <@U0BOB> <https://x.example|x> a & b")

    assert "<" not in shown
    assert ">" not in shown
    assert shown == ("&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://x.example|x&gt; a &amp; b")


def test_unlinked_shows_mentions_and_channel_links_as_words_and_leaves_the_rest() -> None:
    shown = unlinked("<@U0BOB|bob>, <@U0CAROL> in <#C0OPS|ops> or <#C0X>: <!here> a &lt; b")

    assert shown == "@bob, @U0CAROL in #ops or #C0X: @here a &lt; b"
