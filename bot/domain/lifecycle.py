"""The postmortem lifecycle as a transition table (one error for an illegal move)."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import IllegalTransition


class State(StrEnum):
    AWAITING_OWNER = "awaiting_owner"
    DRAFTING = "drafting"
    MEETING_SCHEDULED = "meeting_scheduled"
    IN_REVIEW = "in_review"
    COMPLETED = "completed"


class Move(StrEnum):
    ASSIGN_OWNER = "assign_owner"
    HAND_OVER = "hand_over"
    SCHEDULE_MEETING = "schedule_meeting"
    MARK_MEETING_HELD = "mark_meeting_held"
    COMPLETE = "complete"


STATE_LABELS: dict[State, str] = {
    State.AWAITING_OWNER: "Awaiting an owner",
    State.DRAFTING: "Owned, drafting",
    State.MEETING_SCHEDULED: "Meeting scheduled",
    State.IN_REVIEW: "Meeting held, in review",
    State.COMPLETED: "Completed",
}

TRANSITIONS: dict[tuple[State, Move], State] = {
    (State.AWAITING_OWNER, Move.ASSIGN_OWNER): State.DRAFTING,
    (State.DRAFTING, Move.HAND_OVER): State.DRAFTING,
    (State.MEETING_SCHEDULED, Move.HAND_OVER): State.MEETING_SCHEDULED,
    (State.IN_REVIEW, Move.HAND_OVER): State.IN_REVIEW,
    (State.DRAFTING, Move.SCHEDULE_MEETING): State.MEETING_SCHEDULED,
    (State.MEETING_SCHEDULED, Move.SCHEDULE_MEETING): State.MEETING_SCHEDULED,
    (State.MEETING_SCHEDULED, Move.MARK_MEETING_HELD): State.IN_REVIEW,
    (State.IN_REVIEW, Move.COMPLETE): State.COMPLETED,
}


def _why_not(current: State, move: Move) -> str:
    """Why ``move`` cannot happen in ``current``, said from where the postmortem stands."""
    if current is State.COMPLETED:
        return "it is already complete"
    if move is Move.ASSIGN_OWNER:
        return "it already has an owner"
    if current is State.AWAITING_OWNER:
        return "it needs an owner first: pick one on the prompt or `/postmortem owner @someone`"
    if current is State.IN_REVIEW:  # only completing is left
        return "the meeting was already held; what is left is `/postmortem done`"
    if move is Move.MARK_MEETING_HELD:
        return "no meeting is scheduled yet: use `/postmortem schedule`"
    return "the postmortem meeting has not been held yet"


def next_state(current: State, move: Move) -> State:
    """The state after ``move``, or IllegalTransition saying why it cannot happen now."""
    try:
        return TRANSITIONS[(current, move)]
    except KeyError:
        raise IllegalTransition(
            f"Can't {move.value.replace('_', ' ')} while the postmortem is "
            f"{STATE_LABELS[current].lower()}: {_why_not(current, move)}."
        ) from None
