"""Whether a Slack user can own a postmortem or an action item: a person, not a bot or a
deactivated account, as Slack's users.info says.

When Slack cannot say (unreachable, a refusal such as ``user_not_found`` or a rate limit,
no answer in time), the choice stands: losing a person's pick is worse than the rare
owner who turns out to be a bot, whom `/postmortem owner` can replace (and whose button on
the owner prompt asks Slack again when clicked).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

# Slackbot: users.info does not call it a bot, yet it can own nothing.
SLACKBOT = "USLACKBOT"

# How long a form's submission waits for Slack to say who the people it names are. Slack
# gives the answer to a submission 3 s; this leaves well over a second to store it.
FORM_LOOKUP_SECONDS = 1.5
# The people of one form are asked about side by side (a form names up to 75). A call past
# the deadline keeps its thread until the client's own timeout, so the client given is one
# that gives up soon after the deadline (bootstrap): else the next forms' look-ups queue
# behind the late ones, and a slow Slack waves every bot through.
LOOKUP_THREADS = 8


class NotAPerson(StrEnum):
    BOT = "bot"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class NoOwner:
    """Someone Slack says cannot own anything, with Slack's name for them (a form's inline
    error is plain text: a mention would show as its raw id)."""

    user_id: str
    why: NotAPerson
    name: str


def what_they_are(user_id: str, user: Mapping[str, Any]) -> NotAPerson | None:
    """Why users.info's ``user`` cannot own anything (a bot, a deactivated account), else None."""
    if user.get("is_bot") or user_id == SLACKBOT:
        return NotAPerson.BOT
    if user.get("deleted"):
        return NotAPerson.DEACTIVATED
    return None


def slack_name(user_id: str, user: Mapping[str, Any]) -> str:
    """What Slack shows for ``user`` (the name its people pickers show), else the id."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, Mapping) else {}
    for name in (profile.get("display_name"), user.get("real_name"), user.get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()[:80]
    return user_id


def look_up(client: WebClient, user_id: str) -> dict[str, Any] | None:
    """users.info's user, or None when Slack cannot say (the choice then stands)."""
    try:
        user = client.users_info(user=user_id)["user"]
    except (SlackApiError, OSError) as error:  # OSError: Slack unreachable
        log.warning("users.info %s failed (%s); accepting the choice", user_id, error)
        return None
    return dict(user) if isinstance(user, Mapping) else None


def why_not_a_person(client: WebClient, user_id: str) -> NotAPerson | None:
    """Why ``user_id`` cannot own anything, asking Slack; None if they can or Slack can't say."""
    user = look_up(client, user_id)
    return None if user is None else what_they_are(user_id, user)


class PeopleCheck:
    """Which of many users cannot own a postmortem, asked of Slack side by side and within
    a deadline: a form's submission is answered while Slack waits for it."""

    def __init__(
        self,
        client: WebClient,
        *,
        seconds: float = FORM_LOOKUP_SECONDS,
        threads: int = LOOKUP_THREADS,
    ) -> None:
        self._client = client
        self._seconds = seconds
        # Threads start on first use; idle ones end with the check.
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="people")

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        # Bolt deep-copies the context for lazy listeners; the check is shared, not copied.
        return self

    @property
    def gives_up_after(self) -> float:
        """How long one look-up may hold a thread (its client's timeout), in seconds."""
        return float(self._client.timeout)

    def no_owners(self, user_ids: Iterable[str]) -> dict[str, NoOwner]:
        """The users among ``user_ids`` that Slack says are bots or deactivated accounts.

        Those Slack says nothing about in time (or at all) are taken as people.
        """
        distinct = list(dict.fromkeys(user_ids))
        if not distinct:
            return {}
        futures: dict[Future[dict[str, Any] | None], str] = {
            self._pool.submit(look_up, self._client, user_id): user_id for user_id in distinct
        }
        done, pending = wait(futures, timeout=self._seconds)
        for future in pending:
            future.cancel()
        if pending:
            log.warning(
                "users.info did not answer for %d of %d people within %g s; accepting them",
                len(pending),
                len(distinct),
                self._seconds,
            )
        found: dict[str, NoOwner] = {}
        for future in done:
            user_id = futures[future]
            try:
                user = future.result()
            except Exception:  # look_up handles Slack's failures; anything else: can't say
                log.warning("users.info %s failed; accepting the choice", user_id, exc_info=True)
                continue
            why = what_they_are(user_id, user) if user is not None else None
            if why is not None:
                found[user_id] = NoOwner(user_id, why, slack_name(user_id, user or {}))
        return found

    def close(self) -> None:
        """Start no more look-ups (queued ones are dropped: their forms were answered)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
