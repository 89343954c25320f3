"""Who may snooze a nudge: nobody silences a reminder meant for someone else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.lifecycle import State
from bot.domain.meetings import check_can_snooze
from bot.domain.messages import MessageKind
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem

RESOLVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MANAGED = Policy(incident_managers=("U0MANAGER",))
UNOWNED = Postmortem(
    id=7,
    incident_key="slack:C0INCIDENT:1",
    title="Checkout errors",
    source="slack",
    channel_id="C0INCIDENT",
    state=State.AWAITING_OWNER,
    resolved_at=RESOLVED,
    opened_at=RESOLVED,
    opened_by="U0ALICE",
)
OWNED = replace(UNOWNED, state=State.DRAFTING, owner_id="U0BOB", owner_assigned_by="U0BOB")


def test_anyone_may_snooze_the_no_owner_nudge_before_there_is_an_owner() -> None:
    check_can_snooze(MessageKind.NUDGE_NO_OWNER, UNOWNED, MANAGED, actor="U0CAROL")


@pytest.mark.parametrize("actor", ["U0BOB", "U0MANAGER"])
def test_the_owner_or_an_incident_manager_may_snooze_the_owners_reminders(actor: str) -> None:
    check_can_snooze(MessageKind.NUDGE_NO_MEETING, OWNED, MANAGED, actor=actor)


def test_a_bystander_may_not_snooze_the_owners_reminders() -> None:
    with pytest.raises(NotAllowed, match=r"Only the owner <@U0BOB> or an incident manager"):
        check_can_snooze(MessageKind.REMIND_MEETING_DUE, OWNED, MANAGED, actor="U0CAROL")


@pytest.mark.parametrize("postmortem", [UNOWNED, OWNED])
def test_only_an_incident_manager_may_snooze_an_escalation(postmortem: Postmortem) -> None:
    kind = MessageKind.ESCALATE_NO_OWNER
    check_can_snooze(kind, postmortem, MANAGED, actor="U0MANAGER")

    with pytest.raises(NotAllowed, match="Only an incident manager can snooze an escalation"):
        check_can_snooze(kind, postmortem, MANAGED, actor="U0BOB")


def test_without_incident_managers_an_escalation_follows_the_owner_rule() -> None:
    check_can_snooze(MessageKind.ESCALATE_OVERDUE, OWNED, Policy(), actor="U0BOB")
    with pytest.raises(NotAllowed, match=r"^Only the owner <@U0BOB> can snooze"):
        check_can_snooze(MessageKind.ESCALATE_OVERDUE, OWNED, Policy(), actor="U0CAROL")
