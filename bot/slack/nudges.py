"""What each nudge says (plain builders; the dispatcher decides whether it is still due)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.messages import MessageKind, human_span
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.slack.blocks import slack_date
from bot.slack.ids import Action
from bot.slack.text import escape


def _managers(policy: Policy) -> str:
    if not policy.incident_managers:
        return "No incident manager is configured (`incident_managers` in the policy file)."
    return " ".join(f"<@{m}>" for m in policy.incident_managers)


def nudge_text(kind: MessageKind, postmortem: Postmortem, policy: Policy) -> str:
    deadline = slack_date(policy.meeting_deadline(postmortem.resolved_at), "{date_long_pretty}")
    title = f"*{escape(postmortem.title)}* (#{postmortem.id})"
    owner = f"<@{postmortem.owner_id}>" if postmortem.owner_id else "the owner"
    texts = {
        MessageKind.NUDGE_NO_OWNER: (
            f":wave: The postmortem for {title} still has no owner. One named person keeps it "
            "from falling between the cracks — pick one on the prompt above, or name them with "
            "`/postmortem owner @someone`."
        ),
        MessageKind.ESCALATE_NO_OWNER: (
            f":rotating_light: {_managers(policy)} — the postmortem for {title} has had no owner "
            f"for {human_span(policy.no_owner.escalate)}. Please help the responders choose one."
        ),
        MessageKind.NUDGE_NO_MEETING: (
            f":calendar: {owner}, no postmortem meeting is scheduled yet for {title}. "
            f"It should be held before {deadline}: `/postmortem schedule`."
        ),
        MessageKind.REMIND_MEETING_DUE: (
            f":hourglass_flowing_sand: Reminder: the postmortem meeting for {title} should be "
            f"held before {deadline}. "
            + (
                f"{owner}, it is on the calendar for {slack_date(postmortem.meeting_at)}."
                if postmortem.meeting_at is not None
                else f"{owner}, is it on the calendar? `/postmortem schedule`"
            )
        ),
        MessageKind.ESCALATE_OVERDUE: (
            f":rotating_light: The postmortem for {title} is overdue: its meeting was due by "
            f"{deadline}. {owner} {_managers(policy)} — completing it comes before planned work."
        ),
        MessageKind.ASK_MARK_HELD: (
            f":white_check_mark: {owner}, the postmortem meeting for {title} was due to start "
            "— once it has been held, mark it with `/postmortem held`."
        ),
    }
    return texts.get(kind, f"Update on the postmortem for {title}.")


def _people(user_ids: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"<@{u}>" for u in user_ids) or "nobody else named yet"


def meeting_invite_text(postmortem: Postmortem, policy: Policy) -> str:
    """The channel message that goes with the .ics invite."""
    assert postmortem.meeting_at is not None
    managers = _people(list(policy.incident_managers)) if policy.incident_managers else "none set"
    text = (
        f":calendar: Postmortem meeting for *{escape(postmortem.title)}* (#{postmortem.id}): "
        f"{slack_date(postmortem.meeting_at)}. The invite (.ics) is just above.\n"
        f"• Owner: <@{postmortem.owner_id}>\n"
        f"• Incident manager(s): {managers}\n"
        f"• Participants: {_people(postmortem.meeting_participants)}\n"
        "• When they were involved: customer support, account management, product management"
    )
    if postmortem.meeting_justification:
        why = escape(postmortem.meeting_justification)
        goal = human_span(policy.meeting_due.deadline)
        text += f"\n• Later than {goal} after resolution because: _{why}_"
    return text


def meeting_held_text(postmortem: Postmortem, by: str) -> str:
    return (
        f":white_check_mark: The postmortem meeting for *{escape(postmortem.title)}* "
        f"(#{postmortem.id}) was held (marked by <@{by}>). Next: finish the document and agree "
        "action items with owners and due dates, then `/postmortem done`."
    )


def completed_text(postmortem: Postmortem, by: str) -> str:
    return (
        f":tada: The postmortem for *{escape(postmortem.title)}* (#{postmortem.id}) is complete "
        f"(marked by <@{by}>). Thank you all — its action items come before planned work."
    )


def nudge_blocks(
    kind: MessageKind, text: str, *, outbox_id: int, postmortem_id: int
) -> list[Block]:
    """The nudge with its buttons: "Snooze 1 day" always, "Mark meeting held" when asked."""
    buttons: list[ButtonElement] = []
    if kind is MessageKind.ASK_MARK_HELD:
        buttons.append(
            ButtonElement(
                text="Mark meeting held",
                action_id=Action.MARK_HELD.value,
                value=str(postmortem_id),
                style="primary",
            )
        )
    buttons.append(
        ButtonElement(text="Snooze 1 day", action_id=Action.SNOOZE.value, value=str(outbox_id))
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id=f"nudge:{outbox_id}", elements=buttons),
    ]
