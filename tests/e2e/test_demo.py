"""`postmortem-bot demo`: the whole flow, offline, as the channel would read it."""

from __future__ import annotations

import pytest

from bot.demo import run_demo


def test_the_demo_walks_from_start_to_owner_to_meeting_to_a_completed_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_demo() == 0

    printed = capsys.readouterr().out
    steps = [
        "alice types: /postmortem start",
        "This postmortem needs exactly one owner.",
        "*Owner:* @bob (on-call, payments) (chosen by @carol (SRE))",
        "[bot] sent bob (on-call, payments) a direct message:",
        "• Document: not started",
        "started the document for *Checkout errors after deploy* (#1)",
        "Added action item 1 to postmortem #1: Canary the payments path",
        "BEGIN:VCALENDAR",
        "• Participants: @alice (incident commander), @carol (SRE)",
        "Did it take place? Click *Mark meeting held*",
        "was held (marked by @bob (on-call, payments))",
        "The postmortem does not say yet how the incident response worked",
        "is complete (marked by @bob (on-call, payments))",
        "Saved postmortem #1's document (how the incident response worked",
        "- Status: Completed",
        "Paged within 2 minutes",
        "1. [ ] Canary the payments path — owner @carol (SRE), due",
        "(the file just above; exported by @alice",
    ]
    positions = [printed.find(step) for step in steps]
    assert -1 not in positions, [s for s, at in zip(steps, positions, strict=True) if at == -1]
    assert positions == sorted(positions)
