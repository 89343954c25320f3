"""What each nudge says (plain builders; the dispatcher decides whether it is still due)."""

from __future__ import annotations

from bot.domain.messages import MessageKind
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.slack.blocks import slack_date


def _managers(policy: Policy) -> str:
    if not policy.incident_managers:
        return "No incident manager is configured (`incident_managers` in the policy file)."
    return " ".join(f"<@{m}>" for m in policy.incident_managers)


def nudge_text(kind: MessageKind, postmortem: Postmortem, policy: Policy) -> str:
    deadline = slack_date(policy.meeting_deadline(postmortem.resolved_at), "{date_long_pretty}")
    title = f"*{postmortem.title}* (#{postmortem.id})"
    owner = f"<@{postmortem.owner_id}>" if postmortem.owner_id else "the owner"
    texts = {
        MessageKind.NUDGE_NO_OWNER: (
            f":wave: The postmortem for {title} still has no owner. One named person keeps it "
            "from falling between the cracks — use the buttons on the prompt above to pick one."
        ),
        MessageKind.ESCALATE_NO_OWNER: (
            f":rotating_light: {_managers(policy)} — the postmortem for {title} has had no owner "
            "for a day. Please help the responders choose one."
        ),
        MessageKind.NUDGE_NO_MEETING: (
            f":calendar: {owner}, no postmortem meeting is scheduled yet for {title}. "
            f"It should be held before {deadline}: `/postmortem schedule`."
        ),
        MessageKind.REMIND_MEETING_DUE: (
            f":hourglass_flowing_sand: Reminder: the postmortem meeting for {title} should be "
            f"held before {deadline}. {owner}, is it on the calendar?"
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


def meeting_line(postmortem: Postmortem) -> str:
    if postmortem.meeting_at is None:
        return "No meeting scheduled yet."
    return f"Meeting: {slack_date(postmortem.meeting_at)}"
