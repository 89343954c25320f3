"""People's words inside Slack messages: shown as typed, never as a mention or a link.

Slack escapes a slash command's text: typing ``@channel`` arrives as ``<!channel>``, a
person as ``<@U123|jane>``. Echoed back inside mrkdwn, that markup would ping the whole
channel again with every nudge. So commands turn markup back into the words a person saw
(``plain``), and every message escapes what people or other tools wrote (``escape``).
"""

from __future__ import annotations

import re
import unicodedata

_MARKUP = re.compile(r"<([^<>]*)>")


def _words(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith("!"):  # <!channel>, <!subteam^S1|@oncall>, <!date^…|fallback>
        return label or "@" + target[1:].split("^")[0]
    if target.startswith(("@", "#")):  # <@U1|jane>, <#C1|ops>
        return target[0] + label if label else target
    return label or target  # <https://…|text>


def plain(typed: str) -> str:
    """A slash command's text as the person saw it: markup resolved, entities decoded."""
    text = _MARKUP.sub(_words, typed)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_MENTION_OR_LINK = re.compile(r"<([@#!][^<>]*)>")


def unlinked(text: str) -> str:
    """``text`` where Slack shows it as plain text (a form's inline error): its mentions and
    channel links as words (``<@U1|jane>`` → ``@jane``), as they would otherwise show as raw
    markup. The rest is left as it is (entities too: plain text shows ``&lt;`` as ``<``)."""
    return _MENTION_OR_LINK.sub(_words, text)


def escape(text: str) -> str:
    """``text`` for mrkdwn: ``&``, ``<`` and ``>`` escaped, so it cannot mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def has_words(text: str) -> bool:
    """Whether ``text`` shows anything: not only spaces and invisible format characters
    (a zero-width space pasted alone would make a title nobody can see)."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)


def command(postmortem_id: int, verb: str, rest: str = "") -> str:
    """``/postmortem <verb> #N [rest]`` as code: with its number it works in any channel
    that has several open postmortems, where a bare ``/postmortem <verb>`` asks which."""
    return f"`/postmortem {verb} #{postmortem_id}{' ' + rest if rest else ''}`"
