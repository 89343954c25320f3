"""What the native webhooks of tools that cannot sign (Opsgenie, Grafana OnCall) share.

Neither tool can compute an HMAC of the body, but both can send a fixed header, so they
authenticate with ``Authorization: Bearer <token>`` (a token of ``INCIDENT_WEBHOOK_TOKEN``,
else a secret of ``INCIDENT_WEBHOOK_SECRET``), and say where the postmortem opens with
``?channel=C…`` on the URL they are given.

Their payloads are the vendor's, which nobody can fix, so they are read like PagerDuty's: an
unusable id or time is a 400 naming the field; free text is cleaned (NULs dropped, unpaired
surrogates replaced) and cut to what can be stored; a time ahead of this server's clock (by
less than a day) is taken as now; an event the bot does not use is answered 200 "ignored",
as soon as its type is read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

from pydantic import AwareDatetime, BeforeValidator, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.domain.messages import SLACK_CHANNEL_ID
from bot.domain.resolution import CLOCK_SKEW
from bot.services.incidents import IncidentService, PersonRef, ResolvedIncident, ToolEvidence
from bot.storable_text import cleaned_text
from bot.webhooks.http import (
    BadRequest,
    bearer_body,
    error,
    not_before_2000,
    postmortem_fields,
    storable,
    utc_text,
)

log = logging.getLogger(__name__)

CHANNEL_PARAMETER = "channel"
NOT_AN_OBJECT = "(body): must be a JSON object"
_CHANNEL = re.compile(SLACK_CHANNEL_ID)
# A later time is no clock skew but a bad timestamp (400); up to it, it is taken as now.
MAX_AHEAD = timedelta(days=1)
# Column sizes: what longer vendor text is cut to.
MAX_TITLE = 300
MAX_SEVERITY = 40
MAX_NAME = 200
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# What a date-time must look like before it is parsed (pydantic alone would also take a
# number, or a string of digits, as a Unix time).
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "":
        raise ValueError("must not be blank")
    return storable(value)


def _date_time_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ValueError(
            "must be an ISO 8601 date-time string with a zone, e.g. 2026-11-24T13:40:00Z"
        )
    return value


# An id the incident is stored under: as sent, or a 400 (a NUL or a lone surrogate cannot be
# stored, and cleaning it would make another incident's id).
Id = Annotated[str, Field(max_length=120), BeforeValidator(_not_blank)]
DateTimeText = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]


class Parse(Protocol):
    """A tool's payload → the resolved incident, who took part in it, or why it is ignored;
    BadRequest if unusable."""

    def __call__(
        self, body: bytes, *, now: datetime, channel: str | None
    ) -> ResolvedIncident | ToolEvidence | str: ...


def channel_parameter(request: Request) -> str | None:
    """``?channel=C0123ABCD``: the Slack channel to open the postmortem in, if given."""
    given = request.query_params.getlist(CHANNEL_PARAMETER)
    if not given:
        return None
    if len(given) > 1:
        raise BadRequest("channel (query parameter): give one channel id, not several")
    [channel] = given
    if channel == "":
        # `?channel=#ops`: the "#" starts the address's fragment, which is never sent.
        raise BadRequest(
            "channel (query parameter): is empty; give the channel's id like C0123ABCD (a "
            "name written `#ops` arrives empty: '#' starts the fragment of a web address, "
            "which is not sent)"
        )
    if not _CHANNEL.fullmatch(channel):
        raise BadRequest(
            "channel (query parameter): must be a Slack channel id like C0123ABCD, "
            f"not {cleaned_text(channel[:80])!r}"
        )
    return channel


def plausible_time(value: datetime, *, now: datetime, tool: str) -> datetime:
    """The tool's time, unless it is impossible (ValueError says why).

    Ahead of this server's clock by less than a day, it is taken as now: the resolution did
    happen (the tool's clock is the likelier to be right), and no deadline may count from a
    time that has not come yet.
    """
    if value > now + MAX_AHEAD:
        raise ValueError(
            f"is more than a day in the future (this server's clock says {utc_text(now)})"
        )
    if value <= now:
        return not_before_2000(value)
    if value > now + CLOCK_SKEW:
        log.warning(
            "%s resolution time %s is ahead of this server's clock (%s): taken as now",
            tool,
            utc_text(value),
            utc_text(now),
        )
    return now


def field_time(value: datetime, *, where: str, now: datetime, tool: str) -> datetime:
    """``plausible_time``, or BadRequest naming ``where`` like a validation error would."""
    try:
        return plausible_time(value, now=now, tool=tool)
    except ValueError as problem:
        raise BadRequest(f"{where}: Value error, {problem}") from problem


def title_text(value: str | None, *, fallback: str) -> str:
    """A vendor's title made storable: cleaned, stripped, cut to the column; ``fallback``
    when nothing is left (a postmortem opens all the same)."""
    title = cleaned_text(value or "").strip()
    return title[:MAX_TITLE].rstrip() or fallback[:MAX_TITLE]


def optional_text(value: Any, limit: int) -> str | None:
    """A string or number from a vendor as storable text, or None (anything else, blank)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = cleaned_text(str(value)).strip()[:limit].rstrip()
    return text or None


def label(labels: Any, name: str) -> str | None:
    """``labels[name]`` as text, if ``labels`` is a mapping holding it."""
    if not isinstance(labels, Mapping):
        return None
    return optional_text(labels.get(name), MAX_SEVERITY)


def person_ref(handle: Any, *, name: Any = None) -> PersonRef | None:
    """Someone a tool names by email (looked up in Slack) or by another handle (listed by
    name only); None when there is nobody."""
    text = optional_text(handle, MAX_TITLE) if isinstance(handle, str) else None
    shown = optional_text(name, MAX_NAME) if isinstance(name, str) else None
    if text is not None and len(text) <= MAX_EMAIL and _EMAIL.match(text):
        return PersonRef(email=text, name=shown or text[:MAX_NAME])
    shown = shown or (text[:MAX_NAME] if text else None)
    return PersonRef(name=shown) if shown else None


def tool_endpoint(
    incidents: IncidentService, secrets: Sequence[str], *, tool: str, parse: Parse
) -> Callable[[Request], Any]:
    """The endpoint for one tool: bearer token (503/401/413), ``?channel=`` and body (400),
    then the postmortem opened (201), already open (200) or the event ignored (200)."""
    unconfigured = (
        f"{tool} webhooks are not configured: set INCIDENT_WEBHOOK_TOKEN (or "
        "INCIDENT_WEBHOOK_SECRET) to a shared secret and send it as Authorization: Bearer <it>"
    )

    async def tool_webhook(request: Request) -> Response:
        body = await bearer_body(request, secrets=secrets, unconfigured=unconfigured)
        if isinstance(body, Response):
            return body
        try:
            channel = channel_parameter(request)
            parsed = parse(body, now=incidents.now(), channel=channel)
        except BadRequest as problem:
            return error(400, str(problem))
        if isinstance(parsed, str):
            log.info("%s webhook ignored: %s", tool, parsed)
            return JSONResponse({"ok": True, "outcome": "ignored", "reason": parsed})
        if isinstance(parsed, ToolEvidence):
            return await take_evidence(incidents, parsed, sender=f"{tool} webhook")
        return await open_resolved(incidents, parsed, sender=f"{tool} webhook")

    return tool_webhook


async def take_evidence(
    incidents: IncidentService, evidence: ToolEvidence, *, sender: str
) -> Response:
    """Record who took part (200 "recorded", with the postmortem when it is open); 503 when
    it cannot be stored right now."""
    try:
        handled = await run_in_threadpool(incidents.take_tool_evidence, evidence=evidence)
    except Exception:
        log.exception("%s %s could not be stored", sender, evidence.incident_id)
        return error(503, "could not store the event now; retry later")
    answer: dict[str, Any] = {"ok": True, "outcome": handled.outcome}
    if handled.postmortem is not None:
        answer |= postmortem_fields(handled.postmortem)
    return JSONResponse(answer)


async def open_resolved(
    incidents: IncidentService, incident: ResolvedIncident, *, sender: str
) -> Response:
    """Open (or find) the incident's postmortem and answer: 201 opened, 200 already open,
    503 when it cannot be stored right now (PagerDuty and most senders retry that; Grafana
    OnCall does not, which the README says)."""
    try:
        handled = await run_in_threadpool(incidents.open_resolved, incident=incident)
    except Exception:
        log.exception("%s %s could not be stored", sender, incident.incident_id)
        return error(503, "could not store the incident now; retry later")
    postmortem = handled.postmortem
    assert postmortem is not None
    return JSONResponse(
        {"ok": True, "outcome": handled.outcome, **postmortem_fields(postmortem)},
        status_code=201 if handled.outcome == "opened" else 200,
    )
