"""PagerDuty REST look-ups through PagerDuty's maintained client (``pagerduty`` on PyPI).

Every look-up is best effort and short: the webhook must be answered within PagerDuty's
5-second window, so a slow or failing API means less evidence, never a failed delivery.
Each request is tried once, with a 2 s timeout; the incident service bounds all of one
webhook's look-ups together (``bot.services.incidents.LOOKUP_SECONDS``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pagerduty

from bot.services.incidents import IncidentFacts, Ref

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class _Client(pagerduty.RestApiV2Client):
    """The library's client, also accepting plain http on loopback (the local stand-in).

    The library refuses any base URL that is not https; a test's stand-in on 127.0.0.1
    cannot offer TLS, and nothing leaves the machine in that case.
    """

    @property
    def url(self) -> str:
        return str(self._url)

    @url.setter
    def url(self, new_base_url: str) -> None:
        parts = urlsplit(new_base_url)
        if parts.scheme == "http" and parts.hostname in LOOPBACK:
            self._url = new_base_url
            return
        pagerduty.RestApiV2Client.url.fset(self, new_base_url)  # type: ignore[attr-defined]


def build_client(api_token: str, api_url: str) -> pagerduty.RestApiV2Client:
    """A client that tries each request once: no retry after a network error, a timeout or
    a 429, since a retry could only come too late for the webhook waiting on it."""
    client = _Client(api_token)
    client.url = api_url
    client.timeout = TIMEOUT_SECONDS
    # The library counts retries here, not attempts (it gives up once the count of failed
    # attempts exceeds it): 0 is a single attempt.
    client.max_network_attempts = 0
    # By default the library retries 429 forever. A status listed in ``retry`` is retried
    # unless the error statuses seen so far already exceed ``max_http_attempts``; at -1
    # even none do, so the first 429 is the answer (and the look-up gives up).
    client.retry = {429: 1}
    client.max_http_attempts = -1
    client.sleep_timer = 0.2
    return client


def _ref(item: Any) -> Ref | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    return Ref(
        id=str(item["id"]), type=str(item.get("type", "")), name=str(item.get("summary", ""))
    )


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class PagerDutyRest:
    """The ``PagerDutyLookups`` port, answered by PagerDuty's REST API v2."""

    def __init__(self, client: pagerduty.RestApiV2Client) -> None:
        self._client = client

    def _get(self, path: str, **params: Any) -> Any:
        try:
            return self._client.rget(path, params=params) if params else self._client.rget(path)
        except (pagerduty.Error, pagerduty.UrlError, ValueError) as error:
            log.warning("PagerDuty GET %s failed: %s", path, error)
            return None

    def incident_facts(self, *, incident_id: str) -> IncidentFacts | None:
        """Creation time, assignees, acknowledgers and the first trigger's agent."""
        incident = self._get(f"/incidents/{incident_id}")
        if not isinstance(incident, dict):
            return None
        entries = self._get(f"/incidents/{incident_id}/log_entries", is_overview="true")
        trigger = None
        if isinstance(entries, list):
            trigger = next(
                (
                    e
                    for e in entries
                    if isinstance(e, dict) and e.get("type") == "trigger_log_entry"
                ),
                None,
            )
        return IncidentFacts(
            created_at=_time(incident.get("created_at")),
            trigger_known=trigger is not None,
            trigger_agent=_ref(trigger.get("agent")) if trigger else None,
            assignees=tuple(
                r
                for r in (_ref(a.get("assignee")) for a in incident.get("assignments") or [])
                if r is not None
            ),
            acknowledgers=tuple(
                r
                for r in (
                    _ref(a.get("acknowledger")) for a in incident.get("acknowledgements") or []
                )
                if r is not None and r.is_user
            ),
        )

    def primary_on_call(self, *, escalation_policy_id: str, at: datetime) -> tuple[Ref, ...]:
        """Who was on call at level 1 of the escalation policy at ``at``."""
        oncalls = self._get(
            "/oncalls",
            **{
                "escalation_policy_ids[]": [escalation_policy_id],
                "since": _iso(at),
                "until": _iso(at + timedelta(seconds=1)),
            },
        )
        if not isinstance(oncalls, list):
            return ()
        level_one = [
            _ref(o.get("user"))
            for o in oncalls
            if isinstance(o, dict) and o.get("escalation_level") == 1
        ]
        seen: dict[str, Ref] = {}
        for ref in level_one:
            if ref is not None:
                seen.setdefault(ref.id, ref)
        return tuple(seen.values())

    def user_email(self, *, user_id: str) -> str | None:
        user = self._get(f"/users/{user_id}")
        email = user.get("email") if isinstance(user, dict) else None
        return str(email) if email else None
