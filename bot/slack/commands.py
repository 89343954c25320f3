"""Parsing the text after ``/postmortem`` into a request (pure: no Slack calls)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.domain.cancelling import CANCEL_IS_FOR, MAX_CANCEL_REASON_LENGTH, only_a_false_alarm
from bot.domain.document import MAX_DROP_REASON_LENGTH
from bot.domain.messages import SLACK_USER_ID
from bot.domain.postmortem import MAX_TITLE_LENGTH, PAGERDUTY_INCIDENT_URL
from bot.slack.text import escape, has_words, plain
from bot.storable_text import cleaned_text

COMMAND = "/postmortem"
USAGE = (
    "*Usage*\n"
    "• `/postmortem start [title]` — open a postmortem for this channel's incident "
    "(no title: a form asks for the details); paste the PagerDuty incident's link too "
    "(`/postmortem start https://…pagerduty.com/incidents/Q1ABC Checkout errors`) and its "
    "webhook will not open a second one\n"
    "• `/postmortem owner [#N] @someone` — name the owner; once there is one, the owner, "
    "whoever assigned them or an incident manager can hand it over (also once it is done)\n"
    "• `/postmortem status [#N]` — state, owner and deadlines of this channel's open "
    "postmortems; with `#N`, that one, even once it is complete; "
    "`/postmortem status all` lists every channel's, overdue first (incident managers)\n"
    "• `/postmortem details [#N]` — correct the incident's title, severity, resolution time "
    "or false alarm (a form; the channel is told, and the meeting's deadline follows the "
    "resolution time)\n"
    "• `/postmortem schedule [#N]` — schedule the postmortem meeting (a form; posts an "
    "invite)\n"
    "• `/postmortem held [#N]` — mark the meeting as held (the owner or an incident manager), "
    "once its scheduled time has come; `/postmortem held [#N] early` if it took place before "
    "its scheduled time, `/postmortem held [#N] unscheduled` if it took place without being "
    "scheduled here\n"
    "• `/postmortem document [#N]` — write the postmortem document (a form anyone here can "
    "add to: summary, impact, timeline, contributing factors, what went well, the response)\n"
    "• `/postmortem action [#N] @someone YYYY-MM-DD what to do` — record an action item, "
    "with its owner and due date; `/postmortem action [#N] done 2` marks item 2 done; "
    "`/postmortem action [#N] drop 2 <why>` drops one no longer needed; "
    "`/postmortem action [#N] due 2 YYYY-MM-DD` and "
    "`/postmortem action [#N] owner 2 @someone` give one a new due date or owner; "
    "`/postmortem action mine` lists yours, in every postmortem\n"
    "• `/postmortem export [#N]` — post the document and action items here as a Markdown "
    "file\n"
    "• `/postmortem done [#N]` — complete the postmortem, once its meeting was held\n"
    "• `/postmortem cancel [#N] <why>` — close a postmortem opened by mistake or twice for "
    "one incident (a false alarm still gets its postmortem); the channel is told why\n"
    "• `/postmortem move #N` — bring a postmortem that has no channel (its incident matched "
    "no route) into this channel\n"
    "• `/postmortem help` — this message\n"
    "`#N` is a postmortem's number, as `status` shows it: where a channel has several open "
    "postmortems, add it to say which one, like `/postmortem held #2`."
)

# A PagerDuty link as Slack sends it in a command's text: <url>, <url|label>, or bare; a
# word of its own (not the tail of another address).
_PAGERDUTY_LINK = re.compile(
    rf"(?<!\S)<?(?P<url>{PAGERDUTY_INCIDENT_URL.pattern})(?:\|[^<>]*)?>?", re.IGNORECASE
)
# Any other PagerDuty address: a service's, an alert's… not the incident's.
_OTHER_PAGERDUTY_LINK = re.compile(r"(?<!\S)<?https?://[^\s<>|/]*pagerduty\.com\b", re.IGNORECASE)
NOT_AN_INCIDENT_LINK = (
    "That PagerDuty link is not an incident's. Paste the incident's own link, like "
    "`https://your-account.pagerduty.com/incidents/Q1ABC`, or leave it out."
)
_USER_MENTION = re.compile(rf"^<@({SLACK_USER_ID})(?:\|[^>]*)?>$")
_POSTMORTEM_NUMBER = re.compile(r"^#([0-9]+)(?=\s|$)")
# Postmortem ids are database integers; a longer number cannot be one of them.
_MAX_NUMBER_DIGITS = 9


@dataclass(frozen=True)
class Start:
    title: str | None
    # The PagerDuty incident it is for: its postmortem is then that incident's, one for both.
    pagerduty_link: str | None = None


@dataclass(frozen=True)
class HandOver:
    new_owner: str
    postmortem_id: int | None = None


@dataclass(frozen=True)
class Status:
    postmortem_id: int | None = None


@dataclass(frozen=True)
class StatusEverywhere:
    """`status all`: every channel's open postmortems (for the incident managers)."""


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Schedule:
    postmortem_id: int | None = None


@dataclass(frozen=True)
class Held:
    postmortem_id: int | None = None
    # `held early`: it took place before the time it was scheduled for.
    early: bool = False
    # `held unscheduled`: it took place without being scheduled here.
    unscheduled: bool = False


@dataclass(frozen=True)
class Done:
    postmortem_id: int | None = None


@dataclass(frozen=True)
class Cancel:
    """Close a postmortem opened by mistake or twice, saying why."""

    reason: str
    postmortem_id: int | None = None


@dataclass(frozen=True)
class WriteDocument:
    postmortem_id: int | None = None


@dataclass(frozen=True)
class CorrectDetails:
    """A form to correct the incident's title, severity, resolution time, false alarm."""

    postmortem_id: int | None = None


@dataclass(frozen=True)
class AddActionItem:
    owner: str
    due_on: date
    text: str
    postmortem_id: int | None = None


@dataclass(frozen=True)
class CompleteActionItem:
    number: int
    postmortem_id: int | None = None


@dataclass(frozen=True)
class DropActionItem:
    """Close an action item that is no longer needed (the plan changed), saying why."""

    number: int
    reason: str
    postmortem_id: int | None = None


@dataclass(frozen=True)
class ChangeActionItem:
    """Give an open action item a new due date or a new owner (one per command)."""

    number: int
    due_on: date | None = None
    owner: str | None = None
    postmortem_id: int | None = None


@dataclass(frozen=True)
class MyActionItems:
    """The asker's open action items, in every postmortem."""


@dataclass(frozen=True)
class Export:
    postmortem_id: int | None = None


@dataclass(frozen=True)
class MoveHere:
    """Give a postmortem stored without a channel this channel."""

    postmortem_id: int


@dataclass(frozen=True)
class Invalid:
    """What was wrong, said to the person, followed by the usage."""

    problem: str


Request = (
    Start
    | HandOver
    | Status
    | StatusEverywhere
    | Help
    | Schedule
    | Held
    | Done
    | Cancel
    | WriteDocument
    | CorrectDetails
    | AddActionItem
    | CompleteActionItem
    | DropActionItem
    | ChangeActionItem
    | MyActionItems
    | Export
    | MoveHere
    | Invalid
)

ACTION_USAGE = (
    "`/postmortem action` needs the owner, the due date and what is to be done, like "
    "`/postmortem action @jane 2026-12-04 Alert on queue depth`."
)
_ACTION_ITEM = re.compile(
    rf"^<@(?P<owner>{SLACK_USER_ID})(?:\|[^>]*)?>\s+(?P<due>\S+)(?:\s+(?P<text>.*))?$", re.DOTALL
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The date typed before the owner: `action 2026-12-04 @jane what to do`.
_DATE_THEN_OWNER = re.compile(
    rf"^(?P<due>\d{{4}}-\d{{2}}-\d{{2}})\s+<@{SLACK_USER_ID}(?:\|[^>]*)?>"
)


# An action item's number as typed: digits only (after a "#" some type, as `status` lists
# items as "#2"), and few enough to fit its column.
_ITEM_NUMBER = re.compile(r"#?(?P<digits>[0-9]{1,9})")
_DONE_ITEM = re.compile(r"^done(?:\s+(?P<number>\S+))?$", re.IGNORECASE)
_DROP_ITEM = re.compile(
    r"^drop(?:\s+(?P<number>\S+))?(?:\s+(?P<reason>.*))?$", re.IGNORECASE | re.DOTALL
)
DROP_USAGE = (
    "`/postmortem action drop` needs the action item's number and why it is no longer "
    "needed, like `/postmortem action drop 2 replaced by item 3: the queue is gone`; the "
    "channel is told."
)


_CHANGE_ITEM = re.compile(
    r"^(?P<what>due|owner)(?:\s+(?P<number>\S+))?(?:\s+(?P<to>.*?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
CHANGE_USAGE = {
    "due": (
        "`/postmortem action due` needs the action item's number and its new due date, like "
        "`/postmortem action due 2 2026-12-18`; the channel is told."
    ),
    "owner": (
        "`/postmortem action owner` needs the action item's number and its new owner, like "
        "`/postmortem action owner 2 @jane`; the channel is told."
    ),
}


def _change_item(rest: str, postmortem_id: int | None) -> ChangeActionItem | Invalid | None:
    """`due N YYYY-MM-DD` or `owner N @someone`; None if ``rest`` is neither."""
    change = _CHANGE_ITEM.match(rest)
    if change is None:
        return None
    what, number, to = change.group("what").lower(), change.group("number"), change.group("to")
    if number is None or not _ITEM_NUMBER.fullmatch(number) or not to:
        return Invalid(_numbered(CHANGE_USAGE[what], postmortem_id))
    if what == "owner":
        mention = _USER_MENTION.match(to)
        if mention is None:
            return Invalid(_numbered(CHANGE_USAGE[what], postmortem_id))
        return ChangeActionItem(
            _item_number(number), owner=mention.group(1), postmortem_id=postmortem_id
        )
    due_on = _due_date(to)
    if isinstance(due_on, Invalid):
        return due_on
    return ChangeActionItem(_item_number(number), due_on=due_on, postmortem_id=postmortem_id)


def _numbered(usage: str, postmortem_id: int | None) -> str:
    """``usage`` with its examples naming the postmortem the person named (`action #3 …`)."""
    if postmortem_id is None:
        return usage
    return usage.replace("`/postmortem action ", f"`/postmortem action #{postmortem_id} ")


def _item_number(typed: str) -> int:
    match = _ITEM_NUMBER.fullmatch(typed)
    assert match is not None  # checked by the caller
    return int(match.group("digits"))


def _due_date(typed: str) -> date | Invalid:
    try:
        due_on = date.fromisoformat(typed) if _ISO_DATE.match(typed) else None
    except ValueError:
        due_on = None
    if due_on is None:
        return Invalid(
            f"`{escape(plain(typed)[:20])}` is not a date: write the due date as YYYY-MM-DD, "
            "like `2026-12-04`."
        )
    return due_on


def _drop_item(rest: str, postmortem_id: int | None) -> DropActionItem | Invalid:
    drop = _DROP_ITEM.match(rest)
    assert drop is not None
    number, reason = drop.group("number"), _reason(drop.group("reason") or "")
    if number is None or not _ITEM_NUMBER.fullmatch(number) or not reason:
        return Invalid(_numbered(DROP_USAGE, postmortem_id))
    return _too_long(reason, MAX_DROP_REASON_LENGTH) or DropActionItem(
        _item_number(number), reason, postmortem_id
    )


def _action_item(
    rest: str, postmortem_id: int | None
) -> (
    AddActionItem | CompleteActionItem | DropActionItem | ChangeActionItem | MyActionItems | Invalid
):
    if rest.lower() == "mine" or rest.lower().startswith("mine "):
        if postmortem_id is not None or rest.lower() != "mine":
            return Invalid(
                "`/postmortem action mine` takes nothing more: it lists yours in every postmortem."
            )
        return MyActionItems()
    if rest.lower() == "drop" or rest.lower().startswith("drop "):
        return _drop_item(rest, postmortem_id)
    changed = _change_item(rest, postmortem_id)
    if changed is not None:
        return changed
    done = _DONE_ITEM.match(rest)
    if done is not None or rest.lower().startswith("done "):
        number = done.group("number") if done is not None else None
        if number is None or not _ITEM_NUMBER.fullmatch(number):
            return Invalid(
                "`/postmortem action done` needs the action item's number, like "
                "`/postmortem action done 2` (`/postmortem status` lists them); where the "
                "channel has several postmortems, its number comes first: "
                "`/postmortem action #3 done 2`."
            )
        return CompleteActionItem(_item_number(number), postmortem_id)
    match = _ACTION_ITEM.match(rest)
    if match is None:
        date_first = _DATE_THEN_OWNER.match(rest)
        if date_first is not None:
            return Invalid(
                "Put the owner first, then the due date: "
                f"`/postmortem action @someone {date_first.group('due')} what to do`."
            )
        return Invalid(_numbered(ACTION_USAGE, postmortem_id))
    due_on = _due_date(match.group("due"))
    if isinstance(due_on, Invalid):
        return due_on
    text = plain(match.group("text") or "").strip()
    if not text:
        return Invalid(_numbered(ACTION_USAGE, postmortem_id))
    return AddActionItem(match.group("owner"), due_on, text, postmortem_id)


def _reason(typed: str) -> str:
    """Why, as the person wrote it (markup as the words they saw); "" if it shows nothing."""
    return plain(typed).strip() if has_words(typed) else ""


def _too_long(reason: str, limit: int) -> Invalid | None:
    if len(reason) > limit:
        return Invalid(f"The reason is {len(reason)} characters; keep it to {limit}.")
    return None


def _cancel(rest: str, postmortem_id: int | None) -> Cancel | Invalid:
    reason = _reason(rest)
    if not reason:
        return Invalid(
            "`/postmortem cancel` needs the reason, which the channel is told, like "
            "`/postmortem cancel opened twice: #12 is this incident's`. " + CANCEL_IS_FOR
        )
    if only_a_false_alarm(reason):
        return Invalid(
            "A false alarm is no reason to cancel: it still gets its postmortem, a short review "
            "of why response was triggered, so monitoring can be tuned. Cancel is for a "
            "postmortem opened by mistake or twice for one incident."
        )
    return _too_long(reason, MAX_CANCEL_REASON_LENGTH) or Cancel(reason, postmortem_id)


def _which(rest: str) -> tuple[int | None, str] | Invalid:
    """An optional leading ``#N``: which postmortem, where a channel has several open."""
    match = _POSTMORTEM_NUMBER.match(rest)
    if match is None:
        return None, rest
    return _numbered_postmortem(match.group(1), rest[match.end() :])


# Commands whose arguments never end in "#N" of their own (an action item's text or a
# reason may: "duplicate of #12"): there, a last "#N" names the postmortem too.
_NUMBER_LAST_TOO = frozenset(
    {"owner", "status", "schedule", "held", "done", "document", "doc", "export", "details"}
)
_LAST_POSTMORTEM_NUMBER = re.compile(r"(?:^|\s)#([0-9]+)$")


def _which_at_the_end(rest: str) -> tuple[int | None, str] | Invalid:
    """A trailing ``#N``, for those who name the postmortem last: `owner @jane #2`."""
    match = _LAST_POSTMORTEM_NUMBER.search(rest)
    if match is None:
        return None, rest
    return _numbered_postmortem(match.group(1), rest[: match.start()])


def _numbered_postmortem(digits: str, rest: str) -> tuple[int, str] | Invalid:
    """The postmortem ``digits`` number, and the arguments around it."""
    if len(digits) > _MAX_NUMBER_DIGITS:
        return Invalid(f"There is no postmortem #{digits[:20]}.")
    return int(digits), rest.strip()


def usage_for(text: str) -> str:
    """The usage of the command ``text`` names (its lines of ``USAGE``), or all of it."""
    words = cleaned_text(text).strip().lower().split()
    while words and _POSTMORTEM_NUMBER.fullmatch(words[0]):
        words = words[1:]
    verb = {"doc": "document"}.get(words[0], words[0]) if words else ""
    lines = [line for line in USAGE.splitlines() if line.startswith(f"• `/postmortem {verb}")]
    if not verb or not lines:
        return USAGE
    return "*Usage*\n" + "\n".join(lines) + "\n`/postmortem help` lists every command."


def parse(text: str) -> Request:
    # Cleaned here as well as by the app's middleware: Bolt's lazy listeners (which record
    # action items and hand-overs) read a copy rebuilt from the raw request body.
    words = cleaned_text(text).strip().split(maxsplit=1)
    if not words:
        return Help()
    verb, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if _POSTMORTEM_NUMBER.fullmatch(verb) and rest:
        # `#2 held`: the number first, as `status` lists them; read as `held #2`.
        number, (verb, *after) = verb, rest.split(maxsplit=1)
        verb, rest = verb.lower(), f"{number} {after[0] if after else ''}".strip()
    if verb == "start":
        link = _PAGERDUTY_LINK.search(rest)
        if link is not None:
            rest = f"{rest[: link.start()]} {rest[link.end() :]}"
        if _OTHER_PAGERDUTY_LINK.search(rest):
            return Invalid(NOT_AN_INCIDENT_LINK)
        rest = plain(rest).strip() if has_words(rest) else ""
        if len(rest) > MAX_TITLE_LENGTH:
            return Invalid(f"The title is {len(rest)} characters; keep it to {MAX_TITLE_LENGTH}.")
        # The link up to the incident's id: what follows (/timeline, ?query) names no more.
        canonical = link.string[link.start("url") : link.end("id")] if link else None
        return Start(rest or None, canonical)
    which = _which(rest)
    if isinstance(which, Invalid):
        return which
    postmortem_id, rest = which
    if postmortem_id is None and verb in _NUMBER_LAST_TOO:
        which = _which_at_the_end(rest)
        if isinstance(which, Invalid):
            return which
        postmortem_id, rest = which
    if verb == "owner":
        match = _USER_MENTION.match(rest)
        if not match:
            return Invalid("`/postmortem owner` needs one person, mentioned like `@jane`.")
        return HandOver(match.group(1), postmortem_id)
    if verb == "status":
        if rest.lower() == "all" and postmortem_id is None:
            return StatusEverywhere()
        if rest:
            return Invalid(
                "`/postmortem status` takes at most a postmortem number, like `#2`, or `all` "
                "(every channel's, for the incident managers)."
            )
        return Status(postmortem_id)
    if verb == "help":
        return Help()
    if verb == "move":
        if postmortem_id is None or rest:
            return Invalid(
                "`/postmortem move` needs the number of a postmortem without a channel, "
                "like `/postmortem move #3` (`/postmortem status` lists them)."
            )
        return MoveHere(postmortem_id)
    if verb == "action":
        return _action_item(rest, postmortem_id)
    if verb == "cancel":
        return _cancel(rest, postmortem_id)
    if verb in ("document", "doc", "export", "details"):
        if rest:
            return Invalid(f"`/postmortem {verb}` takes at most a postmortem number, like `#2`.")
        readers: dict[str, type[Export | WriteDocument | CorrectDetails]] = {
            "export": Export,
            "details": CorrectDetails,
        }
        return readers.get(verb, WriteDocument)(postmortem_id)
    if verb == "held" and rest.lower() == "early":
        return Held(postmortem_id, early=True)
    if verb == "held" and rest.lower() == "unscheduled":
        return Held(postmortem_id, unscheduled=True)
    if verb == "held" and rest:
        return Invalid(
            "`/postmortem held` takes at most a postmortem number, like `#2`, then `early` if "
            "the meeting took place before its scheduled time, or `unscheduled` if it took "
            "place without being scheduled here."
        )
    if verb in ("schedule", "held", "done"):
        if rest:
            return Invalid(f"`/postmortem {verb}` takes at most a postmortem number, like `#2`.")
        moves: dict[str, type[Schedule | Held | Done]] = {
            "schedule": Schedule,
            "held": Held,
            "done": Done,
        }
        return moves[verb](postmortem_id)
    return Invalid(f"I don't know `{verb[:30]}`.")
