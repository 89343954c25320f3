"""The dispatcher's port to Slack, over the Web API (``SLACK_API_URL``)."""

from __future__ import annotations

import http.client
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock
from slack_sdk.models.metadata import Metadata

from bot.domain.document import (
    GAPS,
    OPEN_ITEMS,
    POSTED_REMINDERS,
    PostedReminder,
    read_gaps,
    read_open_items,
    read_posted_reminders,
)
from bot.domain.meetings import (
    SEQUENCE,
    SETTLED,
    Attendee,
    Settled,
    invite_attendees,
    meeting_invite_ics,
)
from bot.domain.messages import (
    ACTION_ITEM_REMINDERS,
    HANDED_OVER_FROM,
    NUDGES,
    MessageKind,
    is_slack_user,
)
from bot.domain.postmortem import Postmortem
from bot.services.dispatch import DeliveryFailed, Outgoing
from bot.slack.blocks import (
    next_steps_text,
    owner_chosen,
    owner_prompt,
    prompt_undeliverable_text,
)
from bot.slack.ids import METADATA_EVENT_TYPE
from bot.slack.nudges import (
    action_item_changed_text,
    action_item_done_text,
    action_item_given_text,
    action_item_reminder_blocks,
    action_item_reminder_text,
    action_item_text,
    cancelled_prompt,
    cancelled_text,
    completed_text,
    details_corrected_text,
    document_export_text,
    document_started_text,
    held_question_settled_text,
    item_dropped_with_text,
    meeting_held_text,
    meeting_invite_text,
    nudge_blocks,
    nudge_text,
    owner_told_text,
)
from bot.slack.text import escape

log = logging.getLogger(__name__)

# Errors that no retry will fix: the row is marked dead and shown in `/postmortem status`.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_not_found",
        "user_disabled",
        "user_not_in_channel",
        "msg_too_long",
        "invalid_blocks",
        "no_text",
        "restricted_action",
        "cant_update_message",
        "message_not_found",
        "missing_scope",
    }
)
# Slack refusing the bot's token itself (revoked, the app uninstalled, a wrong
# SLACK_BOT_TOKEN): every message fails until an admin fixes it, none because of what it is.
# Messages wait, without using up their attempts, and are tried again every minute.
TOKEN_REFUSED = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
TOKEN_REFUSED_RETRY_SECONDS = 60.0
_USER_CACHE_TTL = timedelta(hours=1)
_FAILED_LOOKUP_TTL = timedelta(minutes=1)
# A person as the export's Markdown names them (Slack's syntax), replaced by their name.
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


# chat.postEphemeral's answers when the bot cannot show anything in that channel.
_NOT_SHOWN_IN_CHANNEL = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "user_not_in_channel"}
)


# chat.postMessage's answers when a channel takes no more messages from the bot (archived,
# the bot removed, posting restricted to admins).
_CHANNEL_TAKES_NO_MESSAGES = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
)


# conversations.open's answers when the bot cannot find its DM with someone (an install
# without im:write, a deactivated account): nothing to look in, so the message is sent.
_DM_NOT_OPENABLE = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "user_not_found",
        "user_disabled",
        "user_not_visible",
        "cannot_dm_bot",
        "access_denied",
        "no_permission",
    }
)


# conversations.history's answers when the bot cannot read a channel it may still post in
# (chat:write.public without membership, a token without the history scope, …): there is
# nothing to look for there, so the message is sent.
_HISTORY_NOT_READABLE = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "missing_scope",
        "access_denied",
        "no_permission",
        "not_allowed_token_type",
        "is_archived",
        "ekm_access_denied",
        "team_access_not_granted",
        "enterprise_is_restricted",
    }
)

# Slack's answers that do not say whether a call took effect.
_MAYBE_DONE = frozenset({"fatal_error", "internal_error", "request_timeout"})

# A call that failed on the way (refused, reset, timed out, cut short): Slack may or may not
# have had it. urllib's URLError and TimeoutError are OSErrors; http.client's own are not.
_NETWORK_ERRORS = (OSError, http.client.HTTPException)


def _text_only(text: str) -> list[Block]:
    """A message's blocks once it offers nothing to click: ``text`` alone."""
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def _failure(error: SlackApiError) -> DeliveryFailed:
    """What Slack's error means for the message: the one place that decides "temporary".

    Only the errors in ``PERMANENT_ERRORS`` are for good; everything else — a 429 (with its
    ``Retry-After``), any HTTP 5xx, ``internal_error``, ``fatal_error``,
    ``service_unavailable``, ``request_timeout`` … — backs off and is tried again.
    """
    response = error.response
    code = str(response.get("error") or "unknown_error")
    retry_after: float | None = None
    if response.status_code == 429:
        retry_after = float(
            response.headers.get("Retry-After", response.headers.get("retry-after", 1))
        )
        code = "ratelimited"
    elif code in TOKEN_REFUSED:
        retry_after = TOKEN_REFUSED_RETRY_SECONDS
    permanent = response.status_code < 500 and code in PERMANENT_ERRORS
    return DeliveryFailed(code, permanent=permanent, retry_after=retry_after)


def _network_failure(error: Exception, *, unclear: bool = False) -> DeliveryFailed:
    return DeliveryFailed(f"network: {error}", permanent=False, unclear=unclear)


def _why(error: SlackApiError, failure: DeliveryFailed) -> str:
    """Slack's error, with the scope it names when one is missing (an app installed from an
    older manifest: reinstalling it adds the scope)."""
    needed = error.response.get("needed") if failure.error == "missing_scope" else None
    return f"{failure.error}: the app needs {needed}" if needed else failure.error


def _not_looked(channel_id: str, outbox_id: int, failure: DeliveryFailed) -> DeliveryFailed:
    """``failure``, said once: the history could not be read, so nothing is sent for now."""
    log.warning(
        "could not look for outbox %s in %s history (%s); not sending it now",
        outbox_id,
        channel_id,
        failure.error,
    )
    return failure


class SlackMessenger:
    def __init__(
        self, client: WebClient, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._client = client
        self._clock = clock
        # user id → (users.info's user, or {} when it failed; until when to keep it)
        self._users: dict[str, tuple[dict[str, Any], datetime]] = {}
        # user id → the bot's DM channel with them (D…): it never changes
        self._direct_channels: dict[str, str] = {}
        self._lock = threading.Lock()

    def deliver(self, message: Outgoing) -> str | None:
        try:
            return self._deliver(message)
        except SlackApiError as error:
            failure = _failure(error)
            if failure.error in TOKEN_REFUSED and self._token_works():
                # Slack took the token a moment ago: the refusal is this message's own (a
                # recipient who is gone), so it must not hold up every other message.
                failure = DeliveryFailed(failure.error, permanent=True)
            elif failure.error in TOKEN_REFUSED:
                log.error(
                    "Slack refused the bot token (%s): check SLACK_BOT_TOKEN and that the app "
                    "is still installed. Nothing is lost: messages wait and are tried again "
                    "every %.0f s.",
                    failure.error,
                    TOKEN_REFUSED_RETRY_SECONDS,
                )
            # A 5xx (or fatal_error: "some aspect of the operation may have succeeded")
            # leaves it open whether the message was posted.
            failure.unclear = error.response.status_code >= 500 or failure.error in _MAYBE_DONE
            raise failure from error
        except _NETWORK_ERRORS as error:
            raise _network_failure(error, unclear=True) from error

    def _token_works(self) -> bool:
        """Whether Slack takes the bot token now (``auth.test``). Not knowing (Slack erring,
        unreachable) counts as "no": a message then waits instead of dying."""
        try:
            self._client.auth_test()
        except (SlackApiError, *_NETWORK_ERRORS):
            return False
        return True

    def _metadata(self, message: Outgoing) -> Metadata:
        return Metadata(
            event_type=METADATA_EVENT_TYPE,
            event_payload={
                "outbox_id": message.outbox_id,
                "postmortem_id": message.postmortem.id if message.postmortem else 0,
                "kind": message.kind.value,
            },
        )

    def _post(self, message: Outgoing, text: str, blocks: list[Block] | None = None) -> str:
        response = self._client.chat_postMessage(
            channel=message.channel_id,
            text=text,
            blocks=blocks,
            metadata=self._metadata(message),
            unfurl_links=False,
        )
        return str(response["ts"])

    def _deliver(self, message: Outgoing) -> str | None:
        if message.kind is MessageKind.NOTICE:
            self._notice(message)
            return None
        postmortem = message.postmortem
        if postmortem is None:
            raise DeliveryFailed("postmortem gone", permanent=True)
        title = escape(postmortem.title)
        if message.kind is MessageKind.OWNER_PROMPT:
            fallback = f"Postmortem: {title} — this needs exactly one owner."
            return self._post(message, fallback, self._owner_prompt(message, postmortem))
        if message.kind is MessageKind.PROMPT_REFRESH:
            if postmortem.prompt_ts is None:
                return None  # never posted: when it is, it shows every candidate
            self._client.chat_update(
                channel=message.channel_id,
                ts=postmortem.prompt_ts,
                text=f"Postmortem: {title} — this needs exactly one owner.",
                blocks=self._owner_prompt(message, postmortem),
            )
            return postmortem.prompt_ts
        if message.kind is MessageKind.OWNER_CHOSEN:
            previous = message.params.get(HANDED_OVER_FROM)
            if postmortem.prompt_ts is not None:
                self._client.chat_update(
                    channel=message.channel_id,
                    ts=postmortem.prompt_ts,
                    text=f"Postmortem: {title} — owned by <@{postmortem.owner_id}>",
                    blocks=owner_chosen(postmortem, message.policy, handed_over_from=previous),
                )
            steps = next_steps_text(
                postmortem,
                message.policy,
                handed_over_from=previous,
                # Of a completed postmortem handed over: what is left in it, as it is sent.
                gaps=read_gaps(message.params.get(GAPS)),
                open_items=read_open_items(message.params.get(OPEN_ITEMS)),
            )
            return self._post(message, steps)
        if message.kind is MessageKind.PROMPT_UNDELIVERABLE:
            # A direct message: the row's channel is the person's user id.
            text = prompt_undeliverable_text(
                postmortem,
                recipient=message.recipient,
                channel_id=str(message.params.get("channel") or postmortem.channel_id or ""),
                error=str(message.params.get("error") or "unknown_error"),
            )
            return self._post(message, text)
        if message.kind is MessageKind.MEETING_INVITE:
            return self._invite(message, postmortem)
        if message.kind is MessageKind.MEETING_HELD:
            return self._post(message, meeting_held_text(postmortem, str(message.params["by"])))
        if message.kind is MessageKind.DOCUMENT_STARTED:
            return self._post(message, document_started_text(postmortem, str(message.params["by"])))
        if message.kind is MessageKind.ACTION_ITEM_ADDED:
            return self._post(message, action_item_text(postmortem, message.params))
        if message.kind is MessageKind.ACTION_ITEM_CHANGED:
            return self._post(message, action_item_changed_text(postmortem, message.params))
        if message.kind is MessageKind.ACTION_ITEM_GIVEN:
            # A direct message: the row's channel is the new owner's user id.
            sent_at = message.sent_at or self._clock()
            today = sent_at.astimezone(ZoneInfo(message.policy.workspace_timezone)).date()
            return self._post(
                message, action_item_given_text(postmortem, message.params, today=today)
            )
        if message.kind in (MessageKind.ACTION_ITEM_DONE, MessageKind.ACTION_ITEM_DROPPED):
            text = action_item_done_text(postmortem, message.params)
            self._replace_posted(message, text)
            return self._post(message, text)
        if message.kind is MessageKind.HELD_QUESTION_SETTLED:
            text = held_question_settled_text(postmortem, message.params)
            if message.params.get(SETTLED) != Settled.HANDED_OVER:
                self._replace_posted(message, text)
                return None

            def still_asking(question: PostedReminder) -> list[Block]:
                # Asked of the new owner: the question keeps its buttons (its Snooze names
                # its own row).
                if question.outbox_id is None:
                    return _text_only(text)
                return nudge_blocks(
                    MessageKind.ASK_MARK_HELD,
                    text,
                    outbox_id=question.outbox_id,
                    postmortem_id=postmortem.id,
                )

            self._replace_posted(message, text, blocks=still_asking)
            return None
        if message.kind is MessageKind.DOCUMENT_EXPORT:
            return self._export(message, postmortem)
        if message.kind in ACTION_ITEM_REMINDERS:
            return self._remind_of_action_item(message, postmortem)
        if message.kind is MessageKind.OWNER_TOLD:
            # A direct message: the row's channel is the owner's user id.
            return self._post(message, owner_told_text(postmortem, message.params))
        if message.kind is MessageKind.CANCELLED:
            by = str(message.params["by"])
            self._replace_posted(message, item_dropped_with_text(postmortem, message.params))
            if postmortem.prompt_ts is not None and postmortem.owner_id is None:
                # Nobody owns it, so its prompt still shows buttons: take them off, saying why.
                text, blocks = cancelled_prompt(postmortem, by)
                try:
                    self._client.chat_update(
                        channel=message.channel_id,
                        ts=postmortem.prompt_ts,
                        text=text,
                        blocks=blocks,
                    )
                except SlackApiError as error:
                    # A prompt deleted by hand (message_not_found) must not keep the channel
                    # from hearing of the cancel; a temporary failure tries both again.
                    if _failure(error).permanent:
                        log.warning("could not update the cancelled prompt: %s", error)
                    else:
                        raise
            return self._post(message, cancelled_text(postmortem, message.params))
        if message.kind is MessageKind.DETAILS_CORRECTED:
            return self._post(
                message, details_corrected_text(postmortem, message.params, message.policy)
            )
        if message.kind is MessageKind.COMPLETED:
            return self._post(message, completed_text(postmortem, message.params))
        text = str(
            message.params.get("text")
            or nudge_text(
                message.kind,
                postmortem,
                message.policy,
                now=message.sent_at,
                params=message.params,
            )
        )
        if message.kind in NUDGES:
            blocks = nudge_blocks(
                message.kind, text, outbox_id=message.outbox_id, postmortem_id=postmortem.id
            )
            return self._post(message, text, blocks)
        return self._post(message, text)

    def _remind_of_action_item(self, message: Outgoing, postmortem: Postmortem) -> str:
        """In the channel, mentioning the item's owner; by direct message when the channel
        takes no more messages (incident channels are often archived once the postmortem is
        done, long before its action items are)."""

        today = self._recipients_day(message)

        def post(to: Outgoing, *, instead_of: str | None = None) -> str:
            text = action_item_reminder_text(
                message.kind, postmortem, message.params, today=today, instead_of=instead_of
            )
            blocks = action_item_reminder_blocks(
                text,
                outbox_id=message.outbox_id,
                postmortem_id=postmortem.id,
                number=int(message.params["number"]),
            )
            return self._post(to, text, blocks)

        try:
            return post(message)
        except SlackApiError as error:
            if error.response.get("error") not in _CHANNEL_TAKES_NO_MESSAGES:
                raise
            if not message.recipient:
                raise
        # A retry looks for it here too (find_delivered's also_in).
        return post(replace(message, channel_id=message.recipient), instead_of=message.channel_id)

    def _recipients_day(self, message: Outgoing) -> date:
        """The day it is, as the message is sent, where its recipient is (their Slack zone,
        else the workspace's): the day the dispatcher waited for to begin."""
        recipient = message.recipient
        zone = message.policy.person_zone(self.user_timezone(recipient) if recipient else None)
        return (message.sent_at or self._clock()).astimezone(zone).date()

    def _replace_posted(
        self,
        message: Outgoing,
        text: str,
        *,
        blocks: Callable[[PostedReminder], list[Block]] | None = None,
    ) -> None:
        """Replace the reminders ``message`` names as posted (an action item's, the "was it
        held?" questions) with what became of them (``text``): a "Mark done" or "Mark
        meeting held" button left on them invites a click that can only be refused, or say
        it was done already. With ``blocks``, each shows those instead of ``text`` alone.

        A reminder sent to its recipient directly is in their DM: its row's channel is
        their id, or (an action item's, when the channel took no more messages) the
        channel's. One that cannot be updated (deleted, its channel gone) is left as it is:
        the click on it still says what became of it.
        """
        for reminder in read_posted_reminders(message.params.get(POSTED_REMINDERS)):
            shown = _text_only(text) if blocks is None else blocks(reminder)
            if is_slack_user(reminder.channel_id):
                # Posted to the person: chat.update wants the DM's own id (opened only now).
                where = self._direct_channel(reminder.channel_id, message.outbox_id)
            elif self._updated(reminder.channel_id, reminder.ts, text, shown):
                continue
            else:  # not in its channel: in the owner's DM, if it went there
                owner = reminder.owner
                where = self._direct_channel(owner, message.outbox_id) if owner else None
            if where is None or not self._updated(where, reminder.ts, text, shown):
                log.info("left reminder %s as it was: it can no longer be updated", reminder.ts)

    def _updated(self, channel_id: str, ts: str, text: str, blocks: list[Block]) -> bool:
        """chat.update; False when Slack says it can never be (a temporary failure raises)."""
        try:
            self._client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks)
        except SlackApiError as error:
            if _failure(error).permanent:
                return False
            raise
        return True

    def _owner_prompt(self, message: Outgoing, postmortem: Postmortem) -> list[Block]:
        names = {
            c.person.slack_user_id: self.display_name(c.person.slack_user_id)
            for c in postmortem.candidates
            if c.person.slack_user_id and not c.person.name
        }
        return owner_prompt(postmortem, message.policy, names)

    def _notice(self, message: Outgoing) -> None:
        """An ephemeral line to one person; by direct message where the channel won't show it.

        The answer to a command typed in a private channel the bot was not invited to (e.g.
        `/postmortem owner @x`, the way out when the prompt could not be posted there) would
        otherwise be refused and lost.
        """
        assert message.recipient is not None
        text = str(message.params.get("text", ""))
        try:
            self._client.chat_postEphemeral(
                channel=message.channel_id, user=message.recipient, text=text
            )
        except SlackApiError as error:
            if error.response.get("error") not in _NOT_SHOWN_IN_CHANNEL:
                raise
            self._client.chat_postMessage(
                channel=message.recipient,
                text=f"(About <#{message.channel_id}>, where I can't post.) {text}",
                unfurl_links=False,
            )

    def _invite(self, message: Outgoing, postmortem: Postmortem) -> str:
        """The meeting's .ics file, then its announcement."""
        attendees = [self._with_contact(a) for a in invite_attendees(postmortem, message.policy)]
        now = datetime.now(UTC)
        sequence = message.params.get(SEQUENCE)
        return self._file_then_post(
            message,
            content=meeting_invite_ics(
                postmortem,
                attendees,
                now=now,
                # A row queued by an earlier version has none: it counted minutes.
                sequence=int(sequence) if sequence is not None else int(now.timestamp()) // 60,
                goal=message.policy.meeting_due.deadline,
            ),
            filename=f"postmortem-{postmortem.id}-meeting.ics",
            title=f"Postmortem meeting: {postmortem.title}",
            text=meeting_invite_text(postmortem, message.policy, message.params),
        )

    def _export(self, message: Outgoing, postmortem: Postmortem) -> str:
        """The document as a Markdown file (people by name), then the note that it is there."""
        markdown = _MENTION.sub(
            lambda m: "@" + self.display_name(m.group(1)), str(message.params["markdown"])
        )
        return self._file_then_post(
            message,
            content=markdown,
            filename=f"postmortem-{postmortem.id}.md",
            title=f"Postmortem #{postmortem.id}: {postmortem.title}",
            text=document_export_text(postmortem, str(message.params["by"])),
        )

    def _file_then_post(
        self, message: Outgoing, *, content: str | bytes, filename: str, title: str, text: str
    ) -> str:
        """The file, then the message that carries the message metadata.

        In this order a retry after a crash can only repeat the file, never lose it: the
        message is what marks the row as delivered.
        """
        self._client.files_upload_v2(
            channel=message.channel_id,
            content=content,
            filename=filename,
            title=title[:250],
            request_file_info=False,
        )
        return self._post(message, text)

    def _with_contact(self, attendee: Attendee) -> Attendee:
        user = self._user(attendee.slack_user_id)  # cached, like time zones and names
        if not user:
            return attendee
        profile = user.get("profile") or {}
        name = user.get("real_name") or profile.get("real_name") or None
        return replace(attendee, name=name, email=profile.get("email") or None)

    def find_delivered(
        self, *, channel_id: str, outbox_id: int, since: datetime, also_in: str | None = None
    ) -> str | None:
        """The ts of a message already posted for this outbox row, if Slack has one.

        ``also_in``: a person whose direct messages may hold it instead (an action item's
        reminder goes to its owner directly when the channel takes no more messages).

        Raises ``DeliveryFailed`` when the history could not be read for now (a network
        error, a 5xx, ``internal_error``, a 429 …): the message may be there, so it must not
        be sent again until someone has looked.
        """
        found = self._find_in(channel_id, outbox_id, since)
        if found is None and also_in:
            found = self._find_in(also_in, outbox_id, since)
        return found

    def _find_in(self, channel_id: str, outbox_id: int, since: datetime) -> str | None:
        if is_slack_user(channel_id):
            # A direct message was posted to the person's id; its history is the DM's (D…).
            direct = self._direct_channel(channel_id, outbox_id)
            if direct is None:
                return None
            channel_id = direct
        cursor: str | None = None
        oldest = str((since - timedelta(minutes=5)).timestamp())
        for _ in range(20):  # bounded: 20 pages of 200 messages
            try:
                response = self._client.conversations_history(
                    channel=channel_id,
                    oldest=oldest,
                    limit=200,
                    include_all_metadata=True,
                    cursor=cursor,
                )
            except SlackApiError as error:
                failure = _failure(error)
                if error.response.status_code < 500 and failure.error in _HISTORY_NOT_READABLE:
                    # The bot may post where it cannot read (chat:write.public): not knowing
                    # is not a reason to give up on the message, so send it.
                    log.warning(
                        "cannot read %s history (%s); sending", channel_id, _why(error, failure)
                    )
                    return None
                raise _not_looked(channel_id, outbox_id, failure) from error
            except _NETWORK_ERRORS as error:
                raise _not_looked(channel_id, outbox_id, _network_failure(error)) from error
            messages: list[dict[str, Any]] = response.get("messages") or []
            for item in messages:
                metadata: dict[str, Any] = item.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT_TYPE
                    and int(payload.get("outbox_id", -1)) == outbox_id
                ):
                    return str(item["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _direct_channel(self, user_id: str, outbox_id: int) -> str | None:
        """The bot's DM channel with ``user_id`` (conversations.open, im:write); None when
        Slack won't say (no scope, the person is gone): there is then nothing to look in."""
        with self._lock:
            known = self._direct_channels.get(user_id)
        if known is not None:
            return known
        try:
            response = self._client.conversations_open(users=user_id)
        except SlackApiError as error:
            failure = _failure(error)
            if error.response.status_code < 500 and failure.error in _DM_NOT_OPENABLE:
                log.warning(
                    "cannot open the DM with %s (%s); sending", user_id, _why(error, failure)
                )
                return None
            raise _not_looked(user_id, outbox_id, failure) from error
        except _NETWORK_ERRORS as error:
            raise _not_looked(user_id, outbox_id, _network_failure(error)) from error
        channel = str((response.get("channel") or {}).get("id") or "")
        if not channel:
            return None
        with self._lock:
            self._direct_channels[user_id] = channel
        return channel

    def _user(self, user_id: str) -> dict[str, Any]:
        """users.info, cached for an hour; when Slack can't say ({}), asked again a minute later.

        A failure kept for the hour would show ids instead of names, and use the workspace's
        zone instead of the person's, for an hour after one rate-limited or failed look-up.
        """
        now = self._clock()
        with self._lock:
            cached = self._users.get(user_id)
            if cached is not None and now < cached[1]:
                return cached[0]
        try:
            user: dict[str, Any] = dict(self._client.users_info(user=user_id)["user"])
            until = now + _USER_CACHE_TTL
        except SlackApiError as error:
            log.warning("users.info %s failed: %s", user_id, error.response.get("error"))
            user, until = {}, now + _FAILED_LOOKUP_TTL
        except _NETWORK_ERRORS as error:  # Slack unreachable: the same, not a failed message
            log.warning("users.info %s failed: %r", user_id, error)
            user, until = {}, now + _FAILED_LOOKUP_TTL
        with self._lock:
            self._users[user_id] = (user, until)
        return user

    def user_timezone(self, user_id: str) -> str | None:
        zone = self._user(user_id).get("tz")
        return str(zone) if zone else None

    def display_name(self, user_id: str) -> str:
        user = self._user(user_id)
        profile = user.get("profile") or {}
        return str(profile.get("display_name") or user.get("real_name") or user_id)
