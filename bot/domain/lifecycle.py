"""The postmortem lifecycle as a transition table (one error for an illegal move)."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.domain.errors import IllegalTransition


class State(StrEnum):
    AWAITING_OWNER = "awaiting_owner"
    DRAFTING = "drafting"
    MEETING_SCHEDULED = "meeting_scheduled"
    IN_REVIEW = "in_review"
    COMPLETED = "completed"
    # Opened by mistake or twice for one incident: closed without a review, with a reason.
    CANCELLED = "cancelled"


# Nothing more happens to these: no nudges, and a new start in their channel opens another
# (a completed one may still change owner, who hears what its artifact still lacks).
CLOSED = frozenset({State.COMPLETED, State.CANCELLED})


class Move(StrEnum):
    ASSIGN_OWNER = "assign_owner"
    HAND_OVER = "hand_over"
    SCHEDULE_MEETING = "schedule_meeting"
    MARK_MEETING_HELD = "mark_meeting_held"
    COMPLETE = "complete"
    CANCEL = "cancel"


STATE_LABELS: dict[State, str] = {
    State.AWAITING_OWNER: "Awaiting an owner",
    # The document may be written from the start; what is awaited is the meeting.
    State.DRAFTING: "Owned, meeting not scheduled",
    State.MEETING_SCHEDULED: "Meeting scheduled",
    State.IN_REVIEW: "Meeting held, in review",
    State.COMPLETED: "Completed",
    State.CANCELLED: "Cancelled (not reviewed)",
}

TRANSITIONS: dict[tuple[State, Move], State] = {
    (State.AWAITING_OWNER, Move.ASSIGN_OWNER): State.DRAFTING,
    (State.DRAFTING, Move.HAND_OVER): State.DRAFTING,
    (State.MEETING_SCHEDULED, Move.HAND_OVER): State.MEETING_SCHEDULED,
    (State.IN_REVIEW, Move.HAND_OVER): State.IN_REVIEW,
    # Done, its document and action items stay open and its owner is reminded of what it
    # still lacks: an owner who leaves must be able to pass that on. A cancelled one has
    # nothing left to follow up, so it needs no owner.
    (State.COMPLETED, Move.HAND_OVER): State.COMPLETED,
    (State.DRAFTING, Move.SCHEDULE_MEETING): State.MEETING_SCHEDULED,
    (State.MEETING_SCHEDULED, Move.SCHEDULE_MEETING): State.MEETING_SCHEDULED,
    (State.MEETING_SCHEDULED, Move.MARK_MEETING_HELD): State.IN_REVIEW,
    # Met without scheduling it here (straight after the incident, or on a calendar of its
    # own): what counts is that the review took place.
    (State.DRAFTING, Move.MARK_MEETING_HELD): State.IN_REVIEW,
    (State.IN_REVIEW, Move.COMPLETE): State.COMPLETED,
    **{(s, Move.CANCEL): State.CANCELLED for s in State if s not in CLOSED},
}


# What a refused move would have done, as a person asks for it.
ASKED: dict[Move, str] = {
    Move.ASSIGN_OWNER: "choose an owner for this postmortem",
    Move.HAND_OVER: "hand this postmortem over",
    Move.SCHEDULE_MEETING: "schedule this postmortem's meeting",
    Move.MARK_MEETING_HELD: "mark this postmortem's meeting as held",
    Move.COMPLETE: "mark this postmortem done",
    Move.CANCEL: "cancel this postmortem",
}

# Where the postmortem stands, in the words people use about it.
_STANDS: dict[State, str] = {
    State.AWAITING_OWNER: "it has no owner yet",
    State.DRAFTING: "no meeting has been held for it yet",
    State.MEETING_SCHEDULED: "its meeting has not been held yet",
    State.IN_REVIEW: "its meeting was already held",
    State.COMPLETED: "it is already complete",
    State.CANCELLED: "it was cancelled",
}

NOTHING_LEFT = (
    "Nothing is left to do; a new incident gets its own postmortem with `/postmortem start`."
)

_NEXT: dict[State, str] = {
    State.AWAITING_OWNER: (
        "Choose its owner first: pick one on the owner prompt, or name them with "
        "`/postmortem owner @someone`."
    ),
    State.DRAFTING: (
        "Schedule the meeting with `/postmortem schedule`; once it has taken place, record it "
        "with `/postmortem held`. If it already took place without being scheduled here, "
        "record it with `/postmortem held unscheduled`."
    ),
    State.MEETING_SCHEDULED: (
        "Once the meeting has taken place, record it with `/postmortem held`, then close "
        "the postmortem with `/postmortem done`."
    ),
    State.IN_REVIEW: (
        "What is left is to finish the document (`/postmortem document`) and agree action "
        "items with owners and due dates (`/postmortem action @someone YYYY-MM-DD what to do`), "
        "then close it with `/postmortem done`."
    ),
    State.COMPLETED: NOTHING_LEFT,
    State.CANCELLED: NOTHING_LEFT,
}


# The commands a refusal suggests that act on one postmortem (not `start`).
_ONE_POSTMORTEMS_COMMAND = re.compile(r"`/postmortem (owner|schedule|held|done|document|action)\b")


def _why_not(current: State, move: Move, postmortem_id: int | None) -> str:
    """Why ``move`` cannot happen in ``current``, and what to do instead: plain sentences.
    With ``postmortem_id``, the commands it suggests name it, so they work as written in a
    channel with several open postmortems."""
    if move is Move.ASSIGN_OWNER and current not in CLOSED:
        text = (
            f"I can't {ASKED[move]}: it already has an owner. To give it to someone else, "
            "use `/postmortem owner @someone`."
        )
    else:
        text = f"I can't {ASKED[move]}: {_STANDS[current]}. {_NEXT[current]}"
    if postmortem_id is None:
        return text
    return _ONE_POSTMORTEMS_COMMAND.sub(lambda m: f"{m.group(0)} #{postmortem_id}", text)


def next_state(current: State, move: Move, postmortem_id: int | None = None) -> State:
    """The state after ``move``, or IllegalTransition saying why it cannot happen now (the
    commands it suggests naming ``postmortem_id``, when given)."""
    try:
        return TRANSITIONS[(current, move)]
    except KeyError:
        raise IllegalTransition(_why_not(current, move, postmortem_id)) from None
