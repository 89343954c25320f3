"""What a completed postmortem still owes, in words: its document and action items stay
open after `done`, so whatever refers to it once complete says what is missing and how to
add it (the "complete" message, a lifecycle command refused because it is complete, and
what someone it is handed to after `done` is told)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.document import Gap
from bot.domain.errors import IllegalTransition
from bot.domain.lifecycle import ASKED, NOTHING_LEFT, Move, State
from bot.domain.moments import WriteMoment, in_zone
from bot.domain.postmortem import Postmortem

_GAP_WORDS = {
    Gap.WHAT_WENT_WRONG: "what went wrong to cause it (the contributing factors)",
    Gap.RESPONSE: "how the incident response worked",
}


def _command(postmortem_id: int, verb: str, rest: str = "") -> str:
    return f"`/postmortem {verb} #{postmortem_id}{' ' + rest if rest else ''}`"


def artifact_gaps_text(postmortem_id: int, gaps: Sequence[Gap]) -> str:
    """What a completed postmortem's artifact still lacks, and the commands that add it: the
    document and its action items stay open after `done`."""
    return f"The postmortem {artifact_gaps_predicate(postmortem_id, gaps)}"


def artifact_gaps_predicate(postmortem_id: int, gaps: Sequence[Gap]) -> str:
    """``artifact_gaps_text`` without its subject, for a sentence that names the postmortem
    itself ("… is complete, but it does not say yet …")."""
    unsaid = [_GAP_WORDS[gap] for gap in gaps if gap in _GAP_WORDS]
    parts = []
    if unsaid:
        parts.append(f"does not say yet {' or '.join(unsaid)}")
    if Gap.STEPS in gaps:
        parts.append("has no action item to keep it from happening again")
    adds = []
    if unsaid:
        adds.append(_command(postmortem_id, "document"))
    if Gap.STEPS in gaps:
        adds.append(_command(postmortem_id, "action", "@someone YYYY-MM-DD what to do"))
    if len(adds) == 2:
        which = "them"
    else:
        which = "one" if Gap.STEPS in gaps else ("it" if len(unsaid) == 1 else "them")
    return (
        f"{', and '.join(parts)}: its document and action items stay open, so add {which} "
        f"with {' and '.join(adds)}."
    )


def left_after_done(postmortem_id: int, *, gaps: Sequence[Gap], open_items: int) -> list[str]:
    """What is left in a completed postmortem, in sentences to whoever takes it over after
    `done`: what its artifact lacks and the commands that add it, its open action items
    (their owners are reminded, and the postmortem's owner a week late), and its export."""
    export = _command(postmortem_id, "export")
    left = []
    if gaps:
        left.append(artifact_gaps_text(postmortem_id, gaps))
    if open_items:
        status = _command(postmortem_id, "status")
        if open_items == 1:
            left.append(
                "Its open action item is followed up with its owner on its due date; if it is "
                f"still open a week later, you hear of it too: {status} lists it."
            )
        else:
            left.append(
                f"Its {open_items} open action items are followed up with their owners on their "
                f"due dates; one still open a week later is brought to you too: {status} lists "
                "them."
            )
    if gaps:
        left.append(f"Then {export} posts its document as Markdown, to keep.")
    elif open_items:
        left.append(f"{export} posts its document as Markdown, to keep.")
    else:
        left.append(
            f"Nothing else is left to do in it: {export} posts its document as Markdown, to keep."
        )
    return left


def already_complete(
    postmortem: Postmortem,
    move: Move,
    *,
    gaps: Sequence[Gap],
    open_items: int,
    completed_by: str | None,
    write_moment: WriteMoment,
    zone_name: str,
) -> IllegalTransition:
    """The refusal of ``move`` on a completed postmortem: since when and by whom it is
    complete, and what is still left to add to it (not "nothing", while its document lacks a
    section the guidance asks for or an action item is still open).

    ``write_moment`` writes when it was completed in the message (a Slack date); a form's
    inline error (the schedule form, submitted after `done`) says it in ``zone_name``, the
    workspace's, and without the mention of who marked it, which would show as raw markup.
    """
    assert postmortem.state is State.COMPLETED
    in_message: list[str] = []
    in_form: list[str] = []
    if postmortem.completed_at is not None:
        in_message.append(f"since {write_moment(postmortem.completed_at)}")
        in_form.append(f"since {in_zone(zone_name)(postmortem.completed_at)}")
    if completed_by:
        in_message.append(f"marked by <@{completed_by}>")
    if gaps:
        left = artifact_gaps_text(postmortem.id, gaps)
    elif open_items:
        which = "Its open action item is" if open_items == 1 else "Its open action items are"
        left = (
            f"{which} still followed up: {_command(postmortem.id, 'status')} lists "
            f"{'it' if open_items == 1 else 'them'}."
        )
    else:
        left = NOTHING_LEFT

    def refusal(marked: list[str]) -> str:
        said = f" ({', '.join(marked)})" if marked else ""
        return f"I can't {ASKED[move]}: it is already complete{said}. {left}"

    return IllegalTransition(refusal(in_message), plain_text=refusal(in_form))
