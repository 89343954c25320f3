"""Map an email address to a Slack user with ``users.lookupByEmail``."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.services.incidents import NOT_A_PERSON, SlackAnswer

log = logging.getLogger(__name__)


class SlackEmailDirectory:
    """The ``SlackDirectory`` port over the Slack Web API (needs ``users:read.email``)."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def user_id_for_email(self, email: str) -> str | SlackAnswer | None:
        """The active person with this email; ``NOT_A_PERSON`` for a bot or a deactivated
        account; None for no one (or when Slack could not say)."""
        try:
            response = self._client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", error.response.get("error"))
            return None
        except (SlackClientError, OSError) as error:
            # OSError: a timeout or a refused connection (the Web API client lets them through).
            log.warning("users.lookupByEmail failed: %r", error)
            return None
        user = response.get("user") or {}
        if not isinstance(user, dict):
            return None
        if user.get("is_bot") or user.get("deleted"):
            # Not a person who can own a postmortem: suggesting them would offer a button
            # that is refused when clicked, or their name as someone Slack did not find.
            log.info("users.lookupByEmail: %s is a bot or deactivated; not suggested", email)
            return NOT_A_PERSON
        user_id = user.get("id")
        return str(user_id) if user_id else None
