"""`/postmortem document|action|export` and the document form: ack first, the service decides."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.domain.document import SECTION_TITLES, EditConflict, SectionTooLong
from bot.domain.errors import DomainError
from bot.services.documents import DocumentService
from bot.slack import commands
from bot.slack.blocks import slack_date
from bot.slack.document_form import block_id, document_modal, read_document_form
from bot.slack.ids import Callback
from bot.slack.listeners.forms import open_form
from bot.slack.text import escape


def register(app: App) -> None:
    app.view(Callback.DOCUMENT_MODAL.value)(submit_document_form)


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
            case commands.AddActionItem(owner, due_on, text, which):
                postmortem, item = documents.add_action_item(
                    channel_id=channel_id,
                    actor=user_id,
                    owner_id=owner,
                    due_on=due_on,
                    text=text,
                    postmortem_id=which,
                )
                answer_text = (
                    f"Added action item {item.number} to postmortem #{postmortem.id}: "
                    f"{escape(item.text)} — <@{owner}>, due {due_on.isoformat()}. "
                    "I told the channel."
                )
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
    open_form(
        client,
        command,
        document_modal(postmortem, document, channel_id),
        teller=documents,
        retry="Try `/postmortem document` again.",
    )


def submit_document_form(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], documents: DocumentService
) -> None:
    form = read_document_form(view)
    first = block_id(next(iter(SECTION_TITLES)))
    if form.postmortem_id is None:
        ack(response_action="errors", errors={first: "This form lost its postmortem; reopen it."})
        return
    actor = body["user"]["id"]
    try:
        saved = documents.save(
            postmortem_id=form.postmortem_id,
            channel_id=form.channel_id,
            actor=actor,
            submitted=form.submitted,
            shown=form.shown,
        )
    except EditConflict as conflict:
        ack(
            response_action="errors",
            errors={block_id(s): str(conflict) for s in conflict.sections},
        )
        return
    except SectionTooLong as refusal:
        ack(response_action="errors", errors={block_id(refusal.section): str(refusal)})
        return
    except DomainError as refusal:
        ack(response_action="errors", errors={first: str(refusal)[:2000]})
        return
    ack()
    if saved is not None:
        written = len(saved.written)
        documents.tell(
            channel_id=form.channel_id,
            user_id=actor,
            text=(
                f"Saved postmortem #{form.postmortem_id}'s document ({written} of "
                f"{len(SECTION_TITLES)} sections written; {slack_date(saved.updated_at)}). "
                "`/postmortem export` posts it as Markdown."
            ),
        )
