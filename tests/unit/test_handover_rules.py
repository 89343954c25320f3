"""Who may hand a postmortem over: its owner, whoever assigned them, or an incident manager."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain.errors import IllegalTransition, NotAllowed
from bot.domain.lifecycle import State
from bot.domain.postmortem import Postmortem, check_can_hand_over, hands_it_over

RESOLVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def owned(
    owner: str = "U0BOB", assigned_by: str = "U0ALICE", state: State = State.DRAFTING
) -> Postmortem:
    return Postmortem(
        id=7,
        incident_key="slack:C0INCIDENT:1",
        title="Checkout errors",
        source="slack",
        channel_id="C0INCIDENT",
        state=state,
        resolved_at=RESOLVED,
        opened_at=RESOLVED,
        opened_by="U0ALICE",
        owner_id=owner,
        owner_assigned_by=assigned_by,
        owner_assigned_at=RESOLVED,
    )


@pytest.mark.parametrize("actor", ["U0BOB", "U0ALICE", "U0MANAGER"])
def test_the_owner_their_assigner_or_an_incident_manager_may_hand_over(actor: str) -> None:
    state = check_can_hand_over(
        owned(), actor=actor, new_owner="U0CAROL", incident_managers=("U0MANAGER",)
    )

    assert state is State.DRAFTING


def test_an_incident_manager_may_hand_over_when_owner_and_assigner_are_the_same_person() -> None:
    # Someone who took it themselves, then left: nobody else but a manager could move it.
    postmortem = owned(owner="U0GONE", assigned_by="U0GONE")

    state = check_can_hand_over(
        postmortem, actor="U0MANAGER", new_owner="U0CAROL", incident_managers=("U0MANAGER",)
    )

    assert state is State.DRAFTING


def test_anyone_else_is_refused_and_told_who_may_including_the_incident_managers() -> None:
    with pytest.raises(NotAllowed) as refusal:
        check_can_hand_over(
            owned(),
            actor="U0MALLORY",
            new_owner="U0MALLORY",
            incident_managers=("U0MANAGER", "U0OTHER"),
        )

    assert str(refusal.value) == (
        "Only the current owner <@U0BOB>, whoever assigned them (<@U0ALICE>) or an incident "
        "manager (<@U0MANAGER>, <@U0OTHER>) can hand this postmortem over."
    )


def test_without_incident_managers_the_refusal_says_where_to_set_them() -> None:
    with pytest.raises(NotAllowed, match="incident_managers` in the policy file"):
        check_can_hand_over(owned(), actor="U0MALLORY", new_owner="U0CAROL")


def test_handing_over_to_the_current_owner_is_refused() -> None:
    with pytest.raises(NotAllowed, match="already owns this postmortem"):
        check_can_hand_over(
            owned(), actor="U0MANAGER", new_owner="U0BOB", incident_managers=("U0MANAGER",)
        )


@pytest.mark.parametrize("actor", ["U0BOB", "U0ALICE", "U0MANAGER"])
def test_a_completed_postmortem_is_handed_over_by_the_same_people_and_stays_complete(
    actor: str,
) -> None:
    # Its owner is still reminded of what its artifact lacks: one who leaves must pass it on.
    state = check_can_hand_over(
        owned(state=State.COMPLETED),
        actor=actor,
        new_owner="U0CAROL",
        incident_managers=("U0MANAGER",),
    )

    assert state is State.COMPLETED


def test_anyone_else_still_cannot_hand_over_a_completed_postmortem() -> None:
    with pytest.raises(NotAllowed, match="Only the current owner <@U0BOB>"):
        check_can_hand_over(
            owned(state=State.COMPLETED),
            actor="U0MALLORY",
            new_owner="U0MALLORY",
            incident_managers=("U0MANAGER",),
        )


def test_a_cancelled_postmortem_is_not_handed_over_even_by_an_incident_manager() -> None:
    with pytest.raises(IllegalTransition, match="it was cancelled"):
        check_can_hand_over(
            owned(state=State.CANCELLED),
            actor="U0MANAGER",
            new_owner="U0CAROL",
            incident_managers=("U0MANAGER",),
        )


def test_while_nobody_owns_it_only_an_incident_manager_is_one_who_hands_it_over() -> None:
    unowned = replace(owned(state=State.AWAITING_OWNER), owner_id=None, owner_assigned_by=None)

    assert hands_it_over(unowned, "U0MANAGER", ("U0MANAGER",))
    assert not hands_it_over(unowned, "U0ALICE", ("U0MANAGER",))
    assert hands_it_over(owned(), "U0ALICE", ())
    assert not hands_it_over(owned(), "U0DAN", ("U0MANAGER",))
