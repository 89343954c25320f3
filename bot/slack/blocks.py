"""Block Kit builders: pure functions from domain objects to blocks (slack_sdk validates limits)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.lifecycle import STATE_LABELS, State
from bot.domain.owners import Candidate
from bot.domain.policy import Policy
from bot.domain.postmortem import Postmortem
from bot.slack.ids import Action, Callback, Field
from bot.slack.text import escape

MAX_CANDIDATE_BUTTONS = 5
MAX_LISTED_CANDIDATES = 10
SECTION_TEXT_LIMIT = 3000  # Slack refuses a section whose text is longer


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")

WHY_ONE_OWNER = (
    "*This postmortem needs exactly one owner.* One named person avoids the bystander "
    "effect: when a whole team is asked, everyone assumes someone else will do it.\n"
    "Owning it is *not blame* — the owner did not cause the incident. They coordinate a "
    "collaborative, blameless review, follow up for information and do the admin; "
    "writing it is everyone's work."
)


def slack_date(moment: datetime, fmt: str = "{date_short_pretty} at {time}") -> str:
    """A date Slack shows in each reader's own time zone (UTC text as the fallback)."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def person(candidate: Candidate) -> str:
    if candidate.person.slack_user_id:
        return f"<@{candidate.person.slack_user_id}>"
    return f"{escape(candidate.person.name[:80])} _(no matching Slack user found)_"


def _facts(postmortem: Postmortem) -> str:
    facts = [f"Resolved {slack_date(postmortem.resolved_at)}"]
    if postmortem.severity:
        facts.append(f"severity *{escape(postmortem.severity)}*")
    if postmortem.service:
        facts.append(f"service *{escape(postmortem.service)}*")
    line = " · ".join(facts)
    if postmortem.false_alarm:
        line += (
            "\n:mag: *Possible false alarm.* Still worth a short review: why did response "
            "trigger, and can monitoring be tuned so it doesn't next time?"
        )
    return line


def _candidate_lines(candidates: tuple[Candidate, ...]) -> str:
    if not candidates:
        return (
            "No responder was recorded against the owner criteria. Pick whoever was initially "
            "assigned and led the response, the primary on-call of the most affected service, "
            "or whoever manually triggered the incident."
        )
    lines = ["*Suggested owners* (who meets the guidance's criteria, and why):"]
    for candidate in candidates[:MAX_LISTED_CANDIDATES]:
        lines.append(f"• {person(candidate)} — {'; '.join(candidate.reasons)}")
    if len(candidates) > MAX_LISTED_CANDIDATES:
        lines.append(f"…and {len(candidates) - MAX_LISTED_CANDIDATES} more.")
    return _clip("\n".join(lines), SECTION_TEXT_LIMIT)


def owner_prompt(
    postmortem: Postmortem, policy: Policy, names: Mapping[str, str] | None = None
) -> list[Block]:
    """The message that asks the channel to choose exactly one owner.

    ``names`` gives display names for candidates known only by Slack id (button labels
    cannot mention people).
    """
    if postmortem.owner_id is not None:
        return owner_chosen(postmortem, policy)
    buttons: list[ButtonElement | UserSelectElement] = []
    pickable = [c for c in postmortem.candidates if c.person.slack_user_id]
    for index, candidate in enumerate(pickable[:MAX_CANDIDATE_BUTTONS]):
        user_id = candidate.person.slack_user_id or ""
        label = candidate.person.name or (names or {}).get(user_id) or user_id
        buttons.append(
            ButtonElement(
                text=f"Assign {label}"[:75],
                action_id=f"{Action.PICK_CANDIDATE.value}.{index}",
                value=f"{postmortem.id}|{candidate.person.slack_user_id}",
            )
        )
    buttons.append(
        ButtonElement(
            text="I'll own it",
            action_id=Action.CLAIM_SELF.value,
            value=str(postmortem.id),
            style="primary",
        )
    )
    buttons.append(
        UserSelectElement(
            placeholder="Someone else…",
            action_id=Action.PICK_ANYONE.value,
        )
    )
    return [
        HeaderBlock(text=f"Postmortem: {postmortem.title}"[:150]),
        SectionBlock(text=MarkdownTextObject(text=_facts(postmortem))),
        SectionBlock(text=MarkdownTextObject(text=WHY_ONE_OWNER)),
        SectionBlock(text=MarkdownTextObject(text=_candidate_lines(postmortem.candidates))),
        ActionsBlock(block_id=f"owner:{postmortem.id}", elements=buttons),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Postmortem #{postmortem.id} · meeting due by "
                    f"{slack_date(policy.meeting_deadline(postmortem.resolved_at))} "
                    "(within a week of resolution)"
                )
            ]
        ),
    ]


def owner_chosen(postmortem: Postmortem, policy: Policy) -> list[Block]:
    """The prompt, updated in place once the owner is chosen."""
    chosen_by = (
        "who volunteered"
        if postmortem.owner_assigned_by == postmortem.owner_id
        else f"chosen by <@{postmortem.owner_assigned_by}>"
    )
    return [
        HeaderBlock(text=f"Postmortem: {postmortem.title}"[:150]),
        SectionBlock(text=MarkdownTextObject(text=_facts(postmortem))),
        SectionBlock(
            text=MarkdownTextObject(
                text=f":white_check_mark: *Owner:* <@{postmortem.owner_id}> ({chosen_by})"
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Postmortem #{postmortem.id} · meeting due by "
                    f"{slack_date(policy.meeting_deadline(postmortem.resolved_at))}"
                )
            ]
        ),
    ]


def next_steps_text(postmortem: Postmortem, policy: Policy) -> str:
    """What the owner is told once they own it."""
    deadline = slack_date(policy.meeting_deadline(postmortem.resolved_at), "{date_long_pretty}")
    return (
        f"<@{postmortem.owner_id}>, you own the postmortem for "
        f"*{escape(postmortem.title)}*. Thank you!\n"
        f"What happens next:\n"
        f"1. Schedule the postmortem meeting before *{deadline}* — within a week of resolution, "
        "while context is fresh. Invite the responders, the incident manager and, where they "
        "were involved, customer support, account management and product management.\n"
        "2. Start the document: summary, impact, timeline, contributing factors (there is "
        "never a single root cause), what went well, and how the response itself worked.\n"
        "3. Agree action items with owners and due dates; completing this comes before "
        "planned work.\n"
        "You coordinate; everyone writes. Keep it blameless."
    )


def status_text(
    postmortems: list[Postmortem],
    policy: Policy,
    unrouted: list[Postmortem],
    undeliverable: dict[int, list[str]],
) -> str:
    if not postmortems:
        lines = ["There is no open postmortem in this channel. Start one with `/postmortem start`."]
    else:
        lines = []
    for p in postmortems:
        owner = f"<@{p.owner_id}>" if p.owner_id else "_nobody yet_ — pick one from the prompt"
        lines.append(
            f"*#{p.id} {escape(p.title)}* — {STATE_LABELS[p.state]}\n"
            f"• Owner: {owner}\n"
            f"• Resolved {slack_date(p.resolved_at)}; meeting due by "
            f"{slack_date(policy.meeting_deadline(p.resolved_at))}"
        )
        if p.meeting_at is not None and p.state is State.MEETING_SCHEDULED:
            lines.append(f"• Meeting: {slack_date(p.meeting_at)}")
        for problem in undeliverable.get(p.id, []):
            lines.append(f"• :warning: Could not deliver {problem}")
    if unrouted:
        lines.append(
            f":warning: {len(unrouted)} postmortem(s) have no channel (no route matched and "
            "no DEFAULT_CHANNEL): " + ", ".join(f"#{p.id} {escape(p.title)}" for p in unrouted[:10])
        )
    return "\n".join(lines)


def start_modal(channel_id: str, title: str | None, now: datetime) -> View:
    """The form `/postmortem start` opens when details are missing."""

    def people(field: Field, label: str) -> InputBlock:
        return InputBlock(
            block_id=field.value,
            label=label,
            optional=True,
            element=UserMultiSelectElement(action_id=field.value, placeholder="Choose people"),
        )

    return View(
        type="modal",
        callback_id=Callback.START_MODAL.value,
        private_metadata=channel_id,
        title="Start a postmortem",
        submit="Open postmortem",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=Field.TITLE.value,
                label="Incident title",
                element=PlainTextInputElement(
                    action_id=Field.TITLE.value,
                    initial_value=title or None,
                    max_length=150,
                    placeholder="e.g. Checkout errors after deploy",
                ),
            ),
            InputBlock(
                block_id=Field.SEVERITY.value,
                label="Severity",
                optional=True,
                element=StaticSelectElement(
                    action_id=Field.SEVERITY.value,
                    placeholder="Choose a severity",
                    options=[Option(text=s, value=s) for s in SEVERITIES],
                ),
            ),
            InputBlock(
                block_id=Field.RESOLVED_AT.value,
                label="Resolved at",
                element=DateTimePickerElement(
                    action_id=Field.RESOLVED_AT.value, initial_date_time=int(now.timestamp())
                ),
            ),
            InputBlock(
                block_id=Field.FALSE_ALARM.value,
                label="False alarm?",
                optional=True,
                element=CheckboxesElement(
                    action_id=Field.FALSE_ALARM.value,
                    options=[
                        Option(
                            text="It was a false alarm (still reviewed, to tune monitoring)",
                            value="yes",
                        )
                    ],
                ),
            ),
            people(Field.LED_RESPONSE, "Initially assigned and led the response"),
            people(Field.PRIMARY_ON_CALL, "Primary on-call for the most affected service"),
            people(Field.MANUALLY_TRIGGERED, "Manually triggered the incident"),
        ],
    )
