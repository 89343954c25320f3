"""`/postmortem document|action|export` and the document form: ack first, the service decides."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.blameless import blameless_hint, blaming_phrases, blaming_phrases_added
from bot.domain.document import (
    CONFLICT,
    OTHERS_SAVED,
    SECTION_TITLES,
    ActionItem,
    Section,
    SectionTooLong,
)
from bot.domain.errors import DomainError
from bot.domain.postmortem import Postmortem
from bot.services.documents import DocumentService
from bot.slack import commands
from bot.slack.blocks import my_action_items_text
from bot.slack.document_form import (
    block_id,
    document_modal,
    read_document_form,
    timeline_is_empty,
)
from bot.slack.ids import Action, Callback, parse_action_item_ref
from bot.slack.listeners.actions import why_not_an_action_item_owner
from bot.slack.listeners.forms import answer_after_ack, inline_error, open_form
from bot.slack.text import command as command_text
from bot.slack.text import escape

NO_ACTION_ITEM_NAMED = (
    "That button didn't say which action item it was for; `/postmortem status #N` lists a "
    "postmortem's open items."
)
FORM_LOST = (
    "This form no longer says which postmortem it is for: close it and run "
    "`/postmortem document` again."
)


def register(app: App) -> None:
    app.view(Callback.DOCUMENT_MODAL.value)(submit_document_form)
    app.action(Action.ACTION_ITEM_DONE.value)(mark_action_item_done)


def answer(
    ack: Ack, request: commands.Request, command: dict[str, Any], documents: DocumentService
) -> None:
    """The ephemeral answer to `/postmortem document|action|export` (the form opens lazily)."""
    channel_id, user_id = command["channel_id"], command["user_id"]
    try:
        match request:
            case commands.WriteDocument(which):
                documents.for_form(channel_id=channel_id, postmortem_id=which)
                ack()  # the form opens from the lazy listener, after this ack
                return
            case commands.CompleteActionItem(number, which):
                postmortem, item = documents.complete_action_item(
                    asked_in=channel_id,
                    actor=user_id,
                    number=number,
                    postmortem_id=which,
                )
                answer_text = f"{_marked_done(postmortem, item)} I told the channel."
            case commands.DropActionItem(number, reason, which):
                postmortem, item = documents.complete_action_item(
                    asked_in=channel_id,
                    actor=user_id,
                    number=number,
                    postmortem_id=which,
                    drop_reason=reason,
                )
                answer_text = (
                    f"Dropped action item {item.number} of postmortem #{postmortem.id}: "
                    f"{escape(item.text)}. I told the channel why; its reminders stop."
                )
            case commands.ChangeActionItem(number, due_on, None, which) if due_on is not None:
                postmortem, before, item = documents.change_action_item(
                    asked_in=channel_id,
                    actor=user_id,
                    number=number,
                    postmortem_id=which,
                    due_on=due_on,
                )
                answer_text = (
                    f"Action item {item.number} of postmortem #{postmortem.id} is now due "
                    f"{item.due_on.isoformat()} (was {before.due_on.isoformat()}); its "
                    "reminders follow. I told the channel."
                )
            case commands.MyActionItems():
                items, total = documents.open_items_of(user_id)
                answer_text = my_action_items_text(items, total, today=documents.today())
            case commands.Export(which):
                postmortem = documents.export(
                    channel_id=channel_id, actor=user_id, postmortem_id=which
                )
                answer_text = (
                    f"I'm posting postmortem #{postmortem.id}'s document and action items here "
                    "as a Markdown file."
                )
            case _:
                return
    except DomainError as refusal:
        answer_text = str(refusal)
    ack(response_type="ephemeral", text=answer_text)


def add_action_item_by_command(
    command: dict[str, Any], client: WebClient, documents: DocumentService
) -> None:
    """Runs after the empty ack: record the action item, unless its owner is no person."""
    request = commands.parse(command.get("text", ""))
    if not isinstance(request, commands.AddActionItem):
        return

    def add() -> str:
        refusal = why_not_an_action_item_owner(client, request.owner)
        if refusal is not None:
            return refusal
        postmortem, item = documents.add_action_item(
            channel_id=command["channel_id"],
            actor=command["user_id"],
            owner_id=request.owner,
            due_on=request.due_on,
            text=request.text,
            postmortem_id=request.postmortem_id,
        )
        answer_text = (
            f"Added action item {item.number} to postmortem #{postmortem.id}: "
            f"{escape(item.text)} — <@{item.owner_id}>, due {item.due_on.isoformat()}. "
            "I told the channel."
        )
        hint = blameless_hint({"": blaming_phrases(item.text)})
        return f"{answer_text} {escape(hint)}" if hint else answer_text

    answer_after_ack(command, documents, add, not_done="the action item was not recorded")


def change_action_item_owner_by_command(
    command: dict[str, Any], client: WebClient, documents: DocumentService
) -> None:
    """Runs after the empty ack: hand an action item to someone else, unless they are no
    person."""
    request = commands.parse(command.get("text", ""))
    if not isinstance(request, commands.ChangeActionItem) or request.owner is None:
        return
    new_owner = request.owner

    def change() -> str:
        refusal = why_not_an_action_item_owner(client, new_owner)
        if refusal is not None:
            return refusal
        postmortem, before, item = documents.change_action_item(
            asked_in=command["channel_id"],
            actor=command["user_id"],
            number=request.number,
            postmortem_id=request.postmortem_id,
            owner_id=new_owner,
        )
        return (
            f"Action item {item.number} of postmortem #{postmortem.id} is now "
            f"<@{item.owner_id}>'s (was <@{before.owner_id}>'s); its reminders go to them. "
            "I told the channel."
        )

    answer_after_ack(command, documents, change, not_done="the action item was not changed")


def open_document_form(
    command: dict[str, Any], client: WebClient, documents: DocumentService
) -> None:
    """Runs after the ack: the trigger_id stays valid for 3 seconds, enough for views.open."""
    request = commands.parse(command.get("text", ""))
    if not isinstance(request, commands.WriteDocument):
        return
    channel_id = command["channel_id"]
    try:
        postmortem, document = documents.for_form(
            channel_id=channel_id, postmortem_id=request.postmortem_id
        )
    except DomainError:
        return  # the ack already explained why
    draft = documents.timeline_draft(postmortem=postmortem) if timeline_is_empty(document) else ""
    open_form(
        client,
        command,
        document_modal(postmortem, document, channel_id, timeline_draft=draft),
        teller=documents,
        retry="Try `/postmortem document` again.",
    )


def submit_document_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], documents: DocumentService
) -> None:
    form = read_document_form(view)
    first = block_id(next(iter(Section)))
    if form.postmortem_id is None or not form.channel_id:
        ack(response_action="errors", errors={first: FORM_LOST})
        return
    actor = body["user"]["id"]
    try:
        saved = documents.save(
            postmortem_id=form.postmortem_id,
            channel_id=form.channel_id,
            actor=actor,
            submitted=form.submitted,
            shown=form.shown,
            drafted=form.drafted,
        )
    except SectionTooLong as refusal:
        ack(response_action="errors", errors={block_id(refusal.section): inline_error(refusal)})
        return
    except DomainError as refusal:
        ack(response_action="errors", errors={first: inline_error(refusal)})
        return
    if saved.conflicts:
        why = CONFLICT + (OTHERS_SAVED if saved.changed else "")
        ack(response_action="errors", errors={block_id(s): why for s in saved.conflicts})
    else:
        ack()
    if saved.changed and saved.document is not None:
        text = (
            f"Saved postmortem #{form.postmortem_id}'s document "
            f"({', '.join(SECTION_TITLES[s].lower() for s in saved.changed)}; "
            f"{len(saved.document.written)} of {len(Section)} sections written now). "
            # With its number: the bare command finds no postmortem once this one is done.
            f"{command_text(form.postmortem_id, 'export')} posts it as Markdown."
        )
        # Only what this person just wrote: not a nudge about someone else's text every save.
        hint = blameless_hint(
            {
                SECTION_TITLES[s].lower(): blaming_phrases_added(
                    saved.before.get(s, ""), saved.document.text(s)
                )
                for s in saved.changed
            }
        )
        if hint:
            text += f" {escape(hint)}"
    elif not saved.conflicts:
        text = f"Nothing changed in postmortem #{form.postmortem_id}'s document."
    else:
        return  # the form shows why, and stays open
    documents.tell(channel_id=form.channel_id, user_id=actor, text=text)


def _marked_done(postmortem: Postmortem, item: ActionItem) -> str:
    """What whoever marked an action item done is told first (then where it was said)."""
    return (
        f"Marked action item {item.number} of postmortem #{postmortem.id} done: "
        f"{escape(item.text)}."
    )


def mark_action_item_done(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], documents: DocumentService
) -> None:
    """A reminder's "Mark done" button: the channel is told, as for `action done N`.

    The button names its postmortem, so it works where the reminder was sent: in the
    channel, or in a direct message once the channel took no more messages.
    """
    ack()
    user_id = body["user"]["id"]
    channel_id = (body.get("channel") or {}).get("id", "")
    ref = parse_action_item_ref(action.get("value"))
    if ref is None:
        documents.tell(channel_id=channel_id, user_id=user_id, text=NO_ACTION_ITEM_NAMED)
        return
    postmortem_id, number = ref
    try:
        postmortem, item = documents.complete_action_item(
            asked_in=channel_id, actor=user_id, number=number, postmortem_id=postmortem_id
        )
    except DomainError as refusal:
        documents.tell(channel_id=channel_id, user_id=user_id, text=str(refusal))
        return
    if postmortem.channel_id != channel_id:
        # Clicked where the channel's "done" message will not show (a direct message: the
        # channel may take none any more, so nothing is promised about it).
        documents.tell(
            channel_id=channel_id,
            user_id=user_id,
            text=f"{_marked_done(postmortem, item)} Thank you!",
        )
