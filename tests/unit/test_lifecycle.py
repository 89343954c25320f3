"""The lifecycle transition table: legal moves, and one error that says why for the rest."""

from __future__ import annotations

import re

import pytest

from bot.domain.errors import IllegalTransition
from bot.domain.lifecycle import TRANSITIONS, Move, State, next_state


def test_the_happy_path_walks_from_awaiting_an_owner_to_completed() -> None:
    state = State.AWAITING_OWNER
    for move in (
        Move.ASSIGN_OWNER,
        Move.SCHEDULE_MEETING,
        Move.MARK_MEETING_HELD,
        Move.COMPLETE,
    ):
        state = next_state(state, move)

    assert state is State.COMPLETED


def test_a_second_owner_assignment_is_illegal_and_says_why() -> None:
    with pytest.raises(IllegalTransition, match="it already has an owner"):
        next_state(State.DRAFTING, Move.ASSIGN_OWNER)


def test_completing_before_the_meeting_is_held_is_illegal() -> None:
    with pytest.raises(IllegalTransition, match="meeting has not been held"):
        next_state(State.MEETING_SCHEDULED, Move.COMPLETE)


@pytest.mark.parametrize("move", [m for m in Move if m is not Move.HAND_OVER])
def test_nothing_moves_a_completed_postmortem_and_it_says_so(move: Move) -> None:
    with pytest.raises(IllegalTransition, match="it is already complete"):
        next_state(State.COMPLETED, move)


def test_a_completed_postmortem_can_still_be_handed_over_and_stays_complete() -> None:
    # Its owner is still reminded of what its artifact lacks: someone who leaves passes it on.
    assert next_state(State.COMPLETED, Move.HAND_OVER) is State.COMPLETED


def test_a_cancelled_postmortem_cannot_be_handed_over_and_it_says_so() -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_state(State.CANCELLED, Move.HAND_OVER, 7)

    assert str(refused.value) == (
        "I can't hand this postmortem over: it was cancelled. Nothing is left to do; a new "
        "incident gets its own postmortem with `/postmortem start`."
    )


@pytest.mark.parametrize(
    ("state", "move", "reason"),
    [
        (State.IN_REVIEW, Move.MARK_MEETING_HELD, "then close it with `/postmortem done`"),
        (State.IN_REVIEW, Move.SCHEDULE_MEETING, "already held"),
        (State.DRAFTING, Move.COMPLETE, "no meeting has been held for it yet"),
        (State.AWAITING_OWNER, Move.SCHEDULE_MEETING, "it has no owner yet"),
        (State.AWAITING_OWNER, Move.COMPLETE, "it has no owner yet"),
    ],
)
def test_a_refusal_gives_the_reason_that_fits_where_the_postmortem_stands(
    state: State, move: Move, reason: str
) -> None:
    with pytest.raises(IllegalTransition, match=re.escape(reason)):
        next_state(state, move)


def test_every_legal_move_is_in_the_table_and_nothing_else_is() -> None:
    for state in State:
        for move in Move:
            if (state, move) in TRANSITIONS:
                assert next_state(state, move) is TRANSITIONS[(state, move)]
            else:
                with pytest.raises(IllegalTransition):
                    next_state(state, move)
