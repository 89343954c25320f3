"""POSTMORTEM_POLICY_FILE: all keys optional, guidance defaults, errors name key and line."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
import yaml

from bot.domain.policy import Policy, Route
from bot.policy_file import PolicyFileError, load_policy, parse_policy

FULL = """\
working_hours: {days: [mon, tue, wed, thu], start: "08:30", end: "17:00"}
workspace_timezone: Europe/Berlin
incident_managers: [U0123ABCD]
nudges:
  no_owner:    {first: 30m, repeat: 2h, escalate: 12h}
  no_meeting:  {first: 2d}
  no_draft:    {first: 3d}
  meeting_due: {deadline: 5d, remind: [2d, 4d]}
  not_done:    {first: 1d, repeat: 2d}
routes:
  - {pagerduty_service: PXXXXXX, channel: C0123ABCD}
  - {pagerduty_team: PYYYYYY, channel: C0456EFGH}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return str(path)


def test_no_file_means_the_guidance_defaults() -> None:
    policy = load_policy(None)

    assert policy == Policy()
    assert policy.no_owner.first == timedelta(hours=1)
    assert policy.no_owner.repeat == timedelta(hours=4)
    assert policy.no_owner.escalate == timedelta(hours=24)
    assert policy.no_meeting.first == timedelta(days=1)
    assert policy.no_draft.first == timedelta(days=2)
    assert policy.meeting_due.deadline == timedelta(days=7)
    assert policy.meeting_due.remind == (timedelta(days=3), timedelta(days=5))
    assert policy.not_done.first == timedelta(days=2)
    assert policy.not_done.repeat == timedelta(days=3)
    assert policy.workspace_timezone == "UTC"


def test_every_documented_key_is_read(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, FULL))

    assert policy.working_hours.days == frozenset({0, 1, 2, 3})
    assert (policy.working_hours.start, policy.working_hours.end) == (time(8, 30), time(17, 0))
    assert policy.workspace_timezone == "Europe/Berlin"
    assert policy.incident_managers == ("U0123ABCD",)
    assert policy.no_owner.first == timedelta(minutes=30)
    assert policy.no_owner.repeat == timedelta(hours=2)
    assert policy.no_owner.escalate == timedelta(hours=12)
    assert policy.no_meeting.first == timedelta(days=2)
    assert policy.no_draft.first == timedelta(days=3)
    assert policy.meeting_due.deadline == timedelta(days=5)
    assert policy.meeting_due.remind == (timedelta(days=2), timedelta(days=4))
    assert policy.not_done.first == timedelta(days=1)
    assert policy.not_done.repeat == timedelta(days=2)
    assert policy.routes == (
        Route(channel="C0123ABCD", pagerduty_service="PXXXXXX"),
        Route(channel="C0456EFGH", pagerduty_team="PYYYYYY"),
    )


def test_a_partial_file_keeps_the_other_defaults(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "nudges:\n  no_owner: {first: 90s}\n"))

    assert policy.no_owner.first == timedelta(seconds=90)
    assert policy.no_owner.repeat == timedelta(hours=4)
    assert policy.meeting_due == Policy().meeting_due


def test_working_hours_always_means_around_the_clock(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, "working_hours: always\n")).working_hours.always


def test_an_unknown_key_stops_start_up_naming_the_key_and_line(tmp_path: Path) -> None:
    text = "nudges:\n  no_owner:\n    first: 1h\n    repet: 4h\n"

    with pytest.raises(PolicyFileError) as error:
        load_policy(write(tmp_path, text))

    assert "nudges.no_owner.repet" in str(error.value)
    assert "line 4" in str(error.value)
    assert "unknown key" in str(error.value)


def test_an_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"nudge \(line 2\): unknown key"):
        load_policy(write(tmp_path, "working_hours: always\nnudge: {}\n"))


def test_a_bad_duration_stops_start_up_naming_the_key_and_line(tmp_path: Path) -> None:
    text = "incident_managers: [U0123ABCD]\nnudges:\n  meeting_due:\n    deadline: a week\n"

    with pytest.raises(PolicyFileError) as error:
        load_policy(write(tmp_path, text))

    message = str(error.value)
    assert "nudges.meeting_due.deadline (line 4)" in message
    assert "'a week' is not a duration" in message


def test_a_bad_reminder_duration_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"nudges\.meeting_due\.remind \(line 3\)"):
        load_policy(write(tmp_path, "nudges:\n  meeting_due:\n    remind: [3d, soon]\n"))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("nudges: [valid\n", "not valid YAML: while parsing a flow sequence; expected ',' or ']'"),
        ("a:\tb\n", "not valid YAML: while scanning for the next token; found character '\\t'"),
    ],
)
def test_a_file_that_is_not_yaml_is_said_in_one_line_with_where(
    tmp_path: Path, text: str, said: str
) -> None:
    with pytest.raises(PolicyFileError) as refused:
        load_policy(write(tmp_path, text))

    assert said in str(refused.value)
    assert "(line " in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"incident_managers: [U0123ABCD]\nworkspace_timezone: Europe/Z\xfcrich\n")

    with pytest.raises(PolicyFileError) as refused:
        load_policy(str(path))

    assert str(refused.value) == (
        f"POSTMORTEM_POLICY_FILE {path}: not UTF-8 text (byte 0xfc on line 2): save it as UTF-8"
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="POSTMORTEM_POLICY_FILE"):
        load_policy(str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("workspace_timezone: Mars/Olympus\n", "workspace_timezone (line 1): 'Mars/Olympus'"),
        ("workspace_timezone: America\n", "workspace_timezone (line 1): 'America' is not"),
        ("incident_managers: U0123ABCD\n", "incident_managers (line 1): must be a list"),
        ("nudges:\n  no_owner: {repeat: 0s}\n", "nudges.no_owner.repeat (line 2): must be longer"),
        ("nudges:\n  meeting_due: {remind: [0d]}\n", "nudges.meeting_due.remind"),
        ("routes:\n  - {channel: C1}\n", "routes[0] (line 2) needs exactly one of"),
        ("routes:\n  - {pagerduty_team: PT1}\n", "routes[0] (line 2): channel is required"),
        ("routes:\n  - PT1\n", "routes[0] (line 1) must be a mapping"),
        ("nudges:\n  no_owner: 5\n", "nudges.no_owner (line 2) must be a mapping"),
        ("nudges: 5\n", "nudges (line 1) must be a mapping"),
        ("working_hours: [mon]\n", "working_hours (line 1) must be"),
        ("routes: C1\n", "routes (line 1): must be a list"),
        ("working_hours: weekdays\n", "working_hours (line 1): must be `always` or a mapping"),
        (
            "nudges:\n  meeting_due: {deadline: 2d, remind: [1d, 3d]}\n",
            "nudges.meeting_due.remind (line 2): every reminder must come before the deadline "
            "(2 days)",
        ),
        (
            "nudges:\n  no_owner: {escalate: 10d}\n",
            "nudges.no_owner.escalate (line 2): must come before the meeting deadline (7 days)",
        ),
        (
            "incident_managers: [U0A]\nincident_managers: [U0B]\n",
            "policy.yaml: incident_managers (line 2) appears twice in the same mapping",
        ),
        ("nudges:\n  meeting_due: {remind: [3d, 3d]}\n", "remind (line 2): lists the same day"),
        (
            "nudges:\n  no_owner: {first: 30h}\n",
            "nudges.no_owner.first (line 2): must come before the escalation (a day)",
        ),
        (
            "nudges:\n  meeting_due: {deadline: 1d}\n",
            "nudges.no_owner.escalate: must come before the meeting deadline (a day) "
            "(the default, a day; set it)",
        ),
        (
            "routes:\n  - {pagerduty_team: PT1, channel: '#payments'}\n",
            "routes[0].channel (line 2): '#payments' is not a Slack channel id",
        ),
        ("working_hours: {days: []}\n", "working_hours.days (line 1): name at least one day"),
        ("working_hours: {days: monday}\n", "working_hours.days (line 1): must be a list"),
        ("working_hours: {days: [monkey]}\n", "unknown day(s) ['monkey']"),
        ("working_hours: {start: 9}\n", "working_hours.start (line 1): 9 is not a time"),
        ('working_hours: {end: "25:00"}\n', "working_hours.end (line 1): '25:00' is not a time"),
        ("incident_managers: [{a: 1}]\n", "incident_managers (line 1): must be a list"),
        ("incident_managers: [jane]\n", "incident_managers (line 1): must be Slack user ids"),
        ("incident_managers: [U1]\n", "incident_managers (line 1): must be Slack user ids"),
        ("incident_managers: [C0123ABCD]\n", "incident_managers (line 1): must be Slack user"),
        ("nudges:\n  meeting_due: {remind: 3d}\n", "nudges.meeting_due.remind (line 2): must be"),
        ("nudges:\n  no_owner: {first: 99999999999d}\n", "longer than a year"),
        ("nudges:\n  not_done: {repeat: 0d}\n", "nudges.not_done.repeat (line 2): must be longer"),
        ("nudges:\n  not_done: {every: 2d}\n", "nudges.not_done.every (line 2): unknown key"),
    ],
)
def test_values_that_would_only_fail_later_stop_start_up_instead(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(PolicyFileError, match=re.escape(named)):
        load_policy(write(tmp_path, text))


def test_times_of_day_read_as_written_quoted_or_not(tmp_path: Path) -> None:
    # Unquoted, YAML 1.1 reads 9:00 as the number 540 and 09:00 as text: both mean 09:00.
    policy = load_policy(write(tmp_path, "working_hours: {start: 9:00, end: 17:30}\n"))

    assert policy.working_hours.start == time(9, 0)
    assert policy.working_hours.end == time(17, 30)


def test_days_may_be_written_in_full(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "working_hours: {days: [Monday, tues, Thurs, SUN]}\n"))

    assert policy.working_hours.days == frozenset({0, 1, 3, 6})


def test_a_time_of_day_may_carry_zero_seconds(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, 'working_hours: {start: "08:30:00"}\n'))

    assert policy.working_hours.start == time(8, 30)


def test_the_finish_reminder_is_configured_under_nudges_not_done(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "nudges:\n  not_done: {repeat: 5d}\n"))

    assert policy.not_done.first == timedelta(days=2)  # the default, kept
    assert policy.not_done.repeat == timedelta(days=5)
    assert policy.no_owner == Policy().no_owner


def test_the_readme_documents_every_nudge_key_and_its_example_is_a_valid_policy() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### The policy file") :]
    start = section.index("```yaml") + len("```yaml")
    example = section[start : section.index("```", start)]

    documented = parse_policy(yaml.safe_load(example), "README.md")

    for key in ("no_owner", "no_meeting", "meeting_due", "not_done"):
        assert f"\n  {key}:" in example, key
    assert documented.not_done == Policy().not_done  # the example shows the defaults


def test_always_is_read_whatever_its_case(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, "working_hours: Always\n")).working_hours.always


def test_a_short_deadline_keeps_only_the_default_reminders_that_fall_before_it(
    tmp_path: Path,
) -> None:
    policy = load_policy(write(tmp_path, "nudges:\n  meeting_due: {deadline: 4d}\n"))

    assert policy.meeting_due.remind == (timedelta(days=3),)
