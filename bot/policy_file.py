"""Reading ``POSTMORTEM_POLICY_FILE`` (YAML) into the domain Policy, with errors that name the key.

The file's format is part of the external contract (DESIGN.md); every key is optional.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.domain.messages import SLACK_CHANNEL_ID, human_span, is_slack_user
from bot.domain.policy import (
    MeetingDueNudges,
    NoDraftNudges,
    NoMeetingNudges,
    NoOwnerNudges,
    NotDoneNudges,
    Policy,
    Route,
    WorkingHours,
    parse_duration,
)

_CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day_index(name: str) -> int | None:
    """``mon``, ``Tues``, ``thurs``, ``Sunday``: at least three letters of a day's name."""
    name = name.lower()
    for index, full in enumerate(_FULL_DAY_NAMES):
        if len(name) >= 3 and full.startswith(name):
            return index
    return None


class PolicyFileError(Exception):
    """The policy file is unusable; the message names the file, key and line."""


class _DuplicateKey(yaml.YAMLError):
    """A key given twice: YAML would keep the last and ignore the first in silence."""


class _LineLoader(yaml.SafeLoader):
    """Remembers the line of every mapping key, so errors can point at it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    lines: dict[str, int] = {}
    for key, _ in node.value:
        if str(key.value) in lines:
            # YAML keeps the last of two equal keys: the first would be ignored in silence.
            raise _DuplicateKey(
                f"{key.value} (line {key.start_mark.line + 1}) appears twice in the same "
                "mapping: keep one"
            )
        lines[str(key.value)] = key.start_mark.line + 1
    mapping = loader.construct_mapping(node, deep=True)
    return _Located(mapping, lines)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> int | str:
    # YAML 1.1 reads an unquoted 9:00 as the sexagesimal number 540: keep it as written, so
    # a time of day is read as one and a plain 9 is refused instead of becoming 00:09.
    if ":" in str(node.value):
        return str(node.value)
    return int(loader.construct_yaml_int(node))


_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class _Located(dict[str, Any]):
    def __init__(self, data: dict[Any, Any], lines: dict[str, int]) -> None:
        super().__init__({str(k): v for k, v in data.items()})
        self.lines = lines


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, mapping: Any, key: str, problem: str) -> PolicyFileError:
        line = getattr(mapping, "lines", {}).get(key)
        at = f" (line {line})" if line else ""
        return PolicyFileError(f"{self.path}: {where}{key}{at}: {problem}")

    def mapping(
        self, value: Any, where: str, allowed: set[str], *, line: int | None = None
    ) -> dict[str, Any]:
        """``value``, which must be a mapping of ``allowed`` keys (``line``: where it is)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            at = f" (line {line})" if line else ""
            raise PolicyFileError(
                f"{self.path}: {where.rstrip('.') or 'top level'}{at} must be a mapping"
            )
        for key in value:
            if key not in allowed:
                raise self.fail(
                    where, value, key, f"unknown key (expected one of {sorted(allowed)})"
                )
        return value

    def duration(
        self, mapping: dict[str, Any], where: str, key: str, default: timedelta
    ) -> timedelta:
        if key not in mapping:
            return default
        try:
            value = parse_duration(str(mapping[key]))
        except ValueError as error:
            raise self.fail(where, mapping, key, str(error)) from None
        if value <= timedelta(0):
            raise self.fail(where, mapping, key, "must be longer than zero")
        return value

    def clock_time(self, mapping: dict[str, Any], where: str, key: str, default: time) -> time:
        if key not in mapping:
            return default
        raw = mapping[key]
        match = _CLOCK_TIME.match(str(raw)) if isinstance(raw, str) else None
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise self.fail(where, mapping, key, f'{raw!r} is not a time like "09:00"')
        return time(int(match[1]), int(match[2]))

    def string_list(self, mapping: dict[str, Any], where: str, key: str, example: str) -> list[str]:
        raw = mapping.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(v, str | int) for v in raw):
            raise self.fail(where, mapping, key, f"must be a list, like {example}")
        return [str(v) for v in raw]


def load_policy(path: str | None) -> Policy:
    """The policy in ``path``, or the guidance's defaults when no file is configured."""
    if not path:
        return Policy()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyFileError(f"POSTMORTEM_POLICY_FILE {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        line = _line_of_byte(error.object, error.start)
        byte = error.object[error.start]
        raise PolicyFileError(
            f"POSTMORTEM_POLICY_FILE {path}: not UTF-8 text (byte 0x{byte:02x} on line {line}): "
            "save it as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except _DuplicateKey as error:
        raise PolicyFileError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{path}: not valid YAML: {_one_line(error)}") from None
    return parse_policy(data, path)


def _line_of_byte(data: bytes, offset: int) -> int:
    """The line (from 1) that byte ``offset`` of ``data`` is on."""
    return data.count(b"\n", 0, offset) + 1


def _one_line(error: yaml.YAMLError) -> str:
    """PyYAML's error as one line: what is wrong, and where (its own text quotes the file
    over several lines, with a caret under the column)."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return " ".join(str(error).split())
    what = "; ".join(p for p in (error.context, error.problem) if p) or "cannot be read"
    mark = error.problem_mark or error.context_mark
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return " ".join(what.split()) + where


def parse_policy(data: Any, path: str = "policy") -> Policy:
    r = _Reader(path)
    top = r.mapping(
        data,
        "",
        {"working_hours", "workspace_timezone", "incident_managers", "nudges", "routes"},
    )
    zone = str(top.get("workspace_timezone", "UTC"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder, not a zone
        raise r.fail("", top, "workspace_timezone", f"{zone!r} is not a time zone") from None
    managers = r.string_list(top, "", "incident_managers", "[U0123ABCD]")
    if not all(is_slack_user(m) for m in managers):
        raise r.fail(
            "", top, "incident_managers", "must be Slack user ids, like U0123ABCD (not names)"
        )
    return Policy(
        working_hours=_working_hours(r, top),
        workspace_timezone=zone,
        incident_managers=tuple(str(m) for m in managers),
        **_nudges(r, top),
        routes=_routes(r, top),
    )


def _line(mapping: Any, key: str) -> int | None:
    """The line ``key`` is on in ``mapping``, if the file said it."""
    line: int | None = getattr(mapping, "lines", {}).get(key)
    return line


def _nudge(r: _Reader, nudges: dict[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
    return r.mapping(nudges.get(key), f"nudges.{key}.", allowed, line=_line(nudges, key))


def _working_hours(r: _Reader, top: dict[str, Any]) -> WorkingHours:
    raw = top.get("working_hours")
    if isinstance(raw, str):
        if raw.strip().lower() == "always":
            return WorkingHours(always=True)
        raise r.fail(
            "", top, "working_hours", "must be `always` or a mapping of days, start and end"
        )
    hours = r.mapping(
        raw, "working_hours.", {"days", "start", "end"}, line=_line(top, "working_hours")
    )
    defaults = WorkingHours()
    days = defaults.days
    if "days" in hours:
        names = r.string_list(hours, "working_hours.", "days", "[mon, tue]")
        unknown = [n for n in names if _day_index(n) is None]
        if unknown:
            raise r.fail("working_hours.", hours, "days", f"unknown day(s) {unknown}")
        if not names:
            raise r.fail(
                "working_hours.",
                hours,
                "days",
                "name at least one day (or write `working_hours: always` for 24/7)",
            )
        days = frozenset(i for i in map(_day_index, names) if i is not None)
    start = r.clock_time(hours, "working_hours.", "start", defaults.start)
    end = r.clock_time(hours, "working_hours.", "end", defaults.end)
    if end <= start:
        raise r.fail("working_hours.", hours, "end", "must be after start")
    return WorkingHours(days=days, start=start, end=end)


def _nudges(r: _Reader, top: dict[str, Any]) -> dict[str, Any]:
    nudges = r.mapping(
        top.get("nudges"),
        "nudges.",
        {"no_owner", "no_meeting", "no_draft", "meeting_due", "not_done"},
        line=_line(top, "nudges"),
    )
    no_owner = _nudge(r, nudges, "no_owner", {"first", "repeat", "escalate"})
    no_meeting = _nudge(r, nudges, "no_meeting", {"first"})
    no_draft = _nudge(r, nudges, "no_draft", {"first"})
    due = _nudge(r, nudges, "meeting_due", {"deadline", "remind"})
    not_done = _nudge(r, nudges, "not_done", {"first", "repeat"})
    d_owner, d_meeting, d_due = NoOwnerNudges(), NoMeetingNudges(), MeetingDueNudges()
    d_not_done, d_draft = NotDoneNudges(), NoDraftNudges()
    remind = d_due.remind
    if "remind" in due:
        offsets = r.string_list(due, "nudges.meeting_due.", "remind", "[3d, 5d]")
        try:
            remind = tuple(parse_duration(v) for v in offsets)
        except (ValueError, TypeError) as error:
            raise r.fail("nudges.meeting_due.", due, "remind", str(error)) from None
        if any(offset <= timedelta(0) for offset in remind):
            raise r.fail("nudges.meeting_due.", due, "remind", "every offset must be above zero")
        if len(set(remind)) != len(remind):
            raise r.fail("nudges.meeting_due.", due, "remind", "lists the same day twice")
    deadline = r.duration(due, "nudges.meeting_due.", "deadline", d_due.deadline)
    if "remind" in due and any(offset >= deadline for offset in remind):
        raise r.fail(
            "nudges.meeting_due.",
            due,
            "remind",
            f"every reminder must come before the deadline ({human_span(deadline)})",
        )
    # The default reminders (days 3 and 5) only apply where they fall before the deadline.
    remind = tuple(offset for offset in remind if offset < deadline)
    where = "nudges.no_owner."
    escalate = r.duration(no_owner, where, "escalate", d_owner.escalate)
    given = "" if "escalate" in no_owner else f" (the default, {human_span(escalate)}; set it)"
    if escalate >= deadline:
        raise r.fail(
            where,
            no_owner,
            "escalate",
            f"must come before the meeting deadline ({human_span(deadline)}){given}: a "
            "postmortem still without an owner then is already overdue",
        )
    first = r.duration(no_owner, where, "first", d_owner.first)
    if first >= escalate:
        raise r.fail(
            where,
            no_owner,
            "first",
            f"must come before the escalation ({human_span(escalate)}): the channel is asked "
            "before the incident managers are",
        )
    return {
        "no_owner": NoOwnerNudges(
            first=first,
            repeat=r.duration(no_owner, where, "repeat", d_owner.repeat),
            escalate=escalate,
        ),
        "no_meeting": NoMeetingNudges(
            first=r.duration(no_meeting, "nudges.no_meeting.", "first", d_meeting.first)
        ),
        "no_draft": NoDraftNudges(
            first=r.duration(no_draft, "nudges.no_draft.", "first", d_draft.first)
        ),
        "meeting_due": MeetingDueNudges(deadline=deadline, remind=remind),
        "not_done": NotDoneNudges(
            first=r.duration(not_done, "nudges.not_done.", "first", d_not_done.first),
            repeat=r.duration(not_done, "nudges.not_done.", "repeat", d_not_done.repeat),
        ),
    }


def _routes(r: _Reader, top: dict[str, Any]) -> tuple[Route, ...]:
    routes = []
    listed = top.get("routes") or []
    if not isinstance(listed, list):
        raise r.fail(
            "", top, "routes", "must be a list of {pagerduty_service|pagerduty_team, channel}"
        )
    for index, raw in enumerate(listed):
        where = f"routes[{index}]."
        # A list entry has no key of its own: its first key's line, else the list's.
        lines = getattr(raw, "lines", None) or {}
        line = min(lines.values()) if lines else _line(top, "routes")
        at = f" (line {line})" if line else ""
        route = r.mapping(raw, where, {"pagerduty_service", "pagerduty_team", "channel"}, line=line)
        if "channel" not in route:
            raise PolicyFileError(f"{r.path}: {where[:-1]}{at}: channel is required")
        if ("pagerduty_service" in route) == ("pagerduty_team" in route):
            raise PolicyFileError(
                f"{r.path}: {where[:-1]}{at} needs exactly one of pagerduty_service or "
                "pagerduty_team"
            )
        channel = str(route["channel"])
        if not re.fullmatch(SLACK_CHANNEL_ID, channel):
            raise r.fail(
                where,
                route,
                "channel",
                f"{channel[:40]!r} is not a Slack channel id: give the id, like C0123ABCD, not "
                "the name (the channel's details in Slack show its id at the bottom)",
            )
        routes.append(
            Route(
                channel=channel,
                pagerduty_service=route.get("pagerduty_service"),
                pagerduty_team=route.get("pagerduty_team"),
            )
        )
    return tuple(routes)
