"""Blaming words in what people write: a gentle hint, never a refusal.

The guidance: "Effective postmortems are blameless. In complex systems there is never a
single cause, but a combination of factors that lead to failure." Phrasing that names a
person as the failure ("human error", "@jane forgot", "his fault"), looks for the one cause
("root cause"), or judges people with hindsight ("we should have checked") steers a review
towards who instead of why. The bot saves whatever is written; it only points such phrasing
out.

The list is short on purpose: a hint that fires on "fault tolerance", "default", "the health
check failed to detect it" or "monitoring should have paged us" (systems language, just what
a blameless review uses) would teach people to ignore it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# Either apostrophe: phones and some keyboards type the typographic one.
_APOSTROPHE = "['\u2019]"
# A person in a text: Slack's markup (<@U123>, <@U123|jane>) or as typed and shown (@jane).
_PERSON = r"(?:<@[UW][A-Z0-9]+(?:\|[^<>]*)?>|(?<![\w.@])@[\w.\-]*\w)"
_PERSON_RE = re.compile(_PERSON)
SOMEONE = "@someone"

# Said of a person, a failure: "@jane broke it", "@jane accidentally forgot to …".
_FAILED = (
    r"(?:broke|forgot|caused|missed|failed\s+to|ignored|neglected|overlooked"
    r"|messed\s+up|screwed\s+up)"
)
# Who, named right before "should have", makes it hindsight about a person: a mention, or
# a pronoun or a word for a person. "Monitoring should have paged us" and "the config
# should have been validated" are about a system, and the hint would have no person to
# steer away from. "We" counts: the team judging itself in hindsight ("we should have
# caught this") stops at the lapse, where a blameless review asks why catching it was hard
# at the time; it names no one, but it is still who instead of why.
_SOMEONE_WHO = (
    rf"(?:{_PERSON}|\b(?:i|he|she|they|you|we|someone|somebody|everyone|everybody)"
    r"|\b(?:(?:the|our|your|their|his|her|my|an?|that|this|each|every)\s+)?"
    r"(?:on[\s-]?call|ops|sre|devops|staff|people|(?:on[\s-]?call\s+)?"
    r"(?:engineer|developer|dev|operator|reviewer|approver|author|responder|on[\s-]?caller"
    r"|admin|administrator|sysadmin|manager|lead|team|teammate|colleague|person|intern"
    r"|owner)s?))"
)
# A past participle after "should have": what someone did not do, judged in hindsight.
# Not "should have" alone: "the on-call should have a runbook" is a fine action item.
_PARTICIPLE = (
    r"(?:been|had|known|seen|caught|done|run|gone|taken|written|told|sent|kept|left|thought"
    r"|got|gotten|built|found|made|held|brought|said|heard|read|put|set|let|paid|understood"
    r"|spoken|\w{2,}ed)"
)
# "We should have been paged": the person is whom something should have happened to (here
# by the monitoring), not who failed.
_PASSIVE = (
    r"been\s+(?:\w+ly\s+)?(?:\w{2,}ed|told|sent|shown|given|woken|taken|brought|kept"
    r"|made\s+aware)\b"
)
# After "fault", words that make it a thing of the system: "fault tolerance", "the disk's
# fault LED", "PagerDuty's fault detection".
_FAULT_AS_A_THING = (
    r"(?:toleran\w*|inject\w*|isolat\w*|domains?|leds?|lights?|lamps?|indicat\w*|detect\w*"
    r"|handl\w*|codes?|trees?|zones?|modes?|states?|status\w*|manag\w*|recover\w*|reports?"
    r"|logs?|lines?|alarms?|alerts?|signals?|counters?|conditions?|analys\w*|finding)\b"
)
# Possessives that blame nobody: "it was nobody's fault", "it's fault-tolerant".
_NOT_SOMEONE = {"it", "that", "what", "there", "here", "nobody", "anybody", "anyone", "one"}
# Just before a phrase, it is said not to apply: "there is no single root cause", "not
# human error", "it was not caused by human error", "nobody is to blame", "a no-blame
# review". Only words that carry the denial on to the phrase may come between: not "just"
# or "only" ("not only human error" still says it was).
_DENIED = re.compile(
    rf"(?:\bno|\bnot|\bcannot|\bnever|n{_APOSTROPHE}t|\bwithout|\bnobody|\bno[\s-]one)"
    r"(?:\s+(?:a|an|one|the|any|single|is|was|are|were|to|be|been|caused|by|due|down|result"
    r"|results|of|because|from|owing|attributable|attributed|case))*[\s-]+$",
    re.IGNORECASE,
)
_DENIAL_REACH = 40  # characters: "there was never a single" and then some


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    # Whether a match is blaming after all (the default: it is).
    applies: Callable[[re.Match[str]], bool] = lambda match: True


def _rule(pattern: str, applies: Callable[[re.Match[str]], bool] | None = None) -> _Rule:
    compiled = re.compile(pattern, re.IGNORECASE)
    return _Rule(compiled, applies) if applies is not None else _Rule(compiled)


def _someones_fault(match: re.Match[str]) -> bool:
    whose = match.group("whose")
    return whose is None or whose.lower() not in _NOT_SOMEONE


_RULES = (
    _rule(r"\bhuman[\s-]+errors?\b"),
    # Singular only: "root causes" at least admits there were several.
    _rule(r"\broot[\s-]+cause\b"),
    _rule(
        rf"{_SOMEONE_WHO}\s+(?:(?:\w+ly|also|just|all|both|still|never)\s+)?"
        rf"(?:should(?:\s+not|n{_APOSTROPHE}t)?\s+have|should{_APOSTROPHE}ve)"
        rf"(?=\s+(?:(?:\w+ly|just|also|never|already)\s+)?(?!{_PASSIVE}){_PARTICIPLE}\b)"
    ),
    # "his fault", "@jane's fault", "at fault"; not "fault tolerance", "a faulty disk", "the
    # disk's fault LED".
    _rule(
        rf"(?:(?<![\w@<>.\-])(?P<whose>{_PERSON}|\w+){_APOSTROPHE}s"
        r"|\b(?:at|his|her|their|my|your|our|whose))"
        rf"\s+fault\b(?![\s-]*{_FAULT_AS_A_THING})",
        _someones_fault,
    ),
    _rule(r"\bcareless\w*"),
    _rule(r"\bnegligen\w*"),  # negligence, negligent; not "negligible"
    _rule(r"\bblam(?:e|ed|es|ing)\b(?![\s-]*free)"),  # not "blameless", "blame-free"
    _rule(r"\bmistakes?\s+(?:made\s+)?by\b"),
    _rule(rf"{_PERSON}\s+(?:\w+ly\s+)?{_FAILED}\b"),
    _rule(rf"\bcaused\s+by\s+{_PERSON}"),
)


def _label(written: str) -> str:
    """The phrase as the hint quotes it: whoever it names as ``@someone`` (quoting a mention
    would ping them), in lower case."""
    return _PERSON_RE.sub(SOMEONE, written).lower()


def _blaming(text: str) -> list[str]:
    """The blaming phrases in ``text`` as written (their spaces tidied), in the order they
    appear."""
    found: list[tuple[int, str]] = []
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            before = max(0, match.start() - _DENIAL_REACH)
            if _DENIED.search(text, before, match.start()) or not rule.applies(match):
                continue
            found.append((match.start(), " ".join(match.group().split())))
    return [written for _, written in sorted(found)]


def blaming_phrases(text: str) -> list[str]:
    """The blaming phrases in ``text``, in the order they first appear, each once."""
    return list(dict.fromkeys(_label(written) for written in _blaming(text)))


def blaming_phrases_added(before: str, after: str) -> list[str]:
    """The blaming phrases in ``after`` that ``before`` did not have: those an edit wrote.

    Someone fixing a typo next to a colleague's "root cause" did not write it, and is not
    told about it on every save. Compared as written, so "<@U0BOB> forgot" is new beside
    "<@U0DAN> forgot" although both are quoted as "@someone forgot".
    """
    already = {written.lower() for written in _blaming(before)}
    return list(dict.fromkeys(_label(w) for w in _blaming(after) if w.lower() not in already))


# The most phrases a hint quotes: it stays one line, and the point is made by then.
MAX_QUOTED = 3


def blameless_hint(found: Mapping[str, Sequence[str]]) -> str:
    """One kind line about the phrases ``found`` (by where they are: a section's name, or ""
    for a text of one part, like an action item); "" when there are none."""
    places, quoted = [], 0
    for where, phrases in found.items():
        shown = phrases[: MAX_QUOTED - quoted]
        if shown:
            place = ", ".join(f"“{phrase}”" for phrase in shown)
            places.append(f"{place} ({where})" if where else place)
            quoted += len(shown)
    if not places:
        return ""
    more = sum(len(phrases) for phrases in found.values()) - quoted
    # Worded for blame and hindsight alike: "we should have checked" names no person to
    # describe things "rather than", but it is still who should have, instead of why.
    return (
        f"A thought on wording: {'; '.join(places)}{f' and {more} more' if more else ''} — try "
        "describing the conditions and decisions that led there, not who should have done "
        "what; postmortems are blameless."
    )
