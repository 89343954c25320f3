"""Incidents reported by tools: record their events, and open a postmortem when one resolves.

The evidence for the owner criteria comes from the recorded events (who was assigned,
who acknowledged, who triggered it), plus optional look-ups through ports that bootstrap
fills with adapters (PagerDuty REST, Slack's users.lookupByEmail).

The look-ups happen while the sender waits for its answer (PagerDuty gives up after 5 s
and retries), so all of one webhook's look-ups share one deadline, ``LOOKUP_SECONDS``.
Past it the postmortem opens with what is known by then, and a warning is logged: a slow
API means less evidence, never a lost or late delivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol, TypeVar

from bot.domain.errors import DomainError
from bot.domain.lifecycle import State
from bot.domain.owners import Criterion, Person
from bot.domain.postmortem import PAGERDUTY, IncidentReport, Postmortem, incident_key
from bot.persistence.incident_events import StoredIncidentEvent
from bot.persistence.repositories import DeliveryRepository
from bot.persistence.uow import UnitOfWorkFactory
from bot.services.clock import Clock
from bot.services.postmortems import PostmortemService

log = logging.getLogger(__name__)

USER = "user_reference"
FALSE_ALARM_NOTE = (
    "possible false alarm: no person was involved in the response. Still review why "
    "response triggered, so monitoring can be tuned."
)
# Every look-up for one webhook (PagerDuty REST, Slack's users.lookupByEmail), together:
# well inside PagerDuty's 5-second delivery timeout, with room to store the postmortem.
LOOKUP_SECONDS = 3.0
# Look-ups run on threads of their own: the people named by one webhook are looked up side
# by side, and the request waits for them only until the deadline. A call past its deadline
# keeps its thread until its own timeout (up to 10 s), so there are enough for a burst of
# resolves not to starve each other.
LOOKUP_THREADS = 16
LOOKUPS_CUT_SHORT_NOTE = (
    "some look-ups (PagerDuty, Slack) did not finish in time: the suggested owners may be "
    "incomplete."
)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True)
class Ref:
    """A PagerDuty resource reference: a user, service, integration, policy or team."""

    id: str
    type: str
    name: str = ""

    @property
    def is_user(self) -> bool:
        return self.type == USER


@dataclass(frozen=True)
class PagerDutyEvent:
    """One v3 incident webhook event, as the webhook layer parsed it."""

    id: str
    event_type: str
    occurred_at: datetime
    incident_id: str
    agent: Ref | None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentFacts:
    """What PagerDuty's REST API says about an incident the webhooks did not tell us."""

    created_at: datetime | None = None
    trigger_agent: Ref | None = None
    trigger_known: bool = False
    assignees: tuple[Ref, ...] = ()
    acknowledgers: tuple[Ref, ...] = ()


class PagerDutyLookups(Protocol):
    """The PagerDuty REST look-ups (only when ``PAGERDUTY_API_TOKEN`` is set)."""

    def incident_facts(self, *, incident_id: str) -> IncidentFacts | None: ...

    def primary_on_call(self, *, escalation_policy_id: str, at: datetime) -> tuple[Ref, ...]: ...

    def user_email(self, *, user_id: str) -> str | None: ...


class SlackAnswer(Enum):
    """Slack's answer for an email whose account is a bot or deactivated: someone who can
    own no postmortem, so no candidate (not even by name, as someone Slack did not find)."""

    NOT_A_PERSON = "not a person"


NOT_A_PERSON = SlackAnswer.NOT_A_PERSON


class SlackDirectory(Protocol):
    """Who is who in Slack."""

    def user_id_for_email(self, email: str) -> str | SlackAnswer | None:
        """The person's Slack id; ``NOT_A_PERSON`` for a bot or a deactivated account;
        None when Slack has no one with this email or could not say."""
        ...


@dataclass(frozen=True)
class PersonRef:
    """Someone named by a generic webhook: a Slack id, an email, or both."""

    slack_user_id: str | None = None
    email: str | None = None
    name: str = ""


@dataclass(frozen=True)
class ResolvedIncident:
    """A resolved incident handed over by any tool through the generic webhook."""

    source: str
    incident_id: str
    title: str
    resolved_at: datetime
    severity: str | None = None
    service: str | None = None
    channel_id: str | None = None
    false_alarm: bool = False
    people: Mapping[Criterion, Sequence[PersonRef]] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolEvidence:
    """Someone a tool says took part in its incident before it resolved (Opsgenie's
    Acknowledge, AssignOwnership): evidence for one owner criterion."""

    source: str
    incident_id: str
    event_type: str
    occurred_at: datetime
    criterion: Criterion
    person: PersonRef


# An incident event recorded from a tool's evidence names the criterion it is evidence for.
_CRITERION = "criterion"


def _recorded_people(
    events: Sequence[StoredIncidentEvent],
) -> dict[Criterion, list[PersonRef]]:
    """The people earlier deliveries named as evidence, in the order it happened."""
    people: dict[Criterion, list[PersonRef]] = {}
    for event in events:
        criterion = event.data.get(_CRITERION)
        if criterion not in {c.value for c in Criterion}:
            continue
        ref = PersonRef(email=event.agent_id, name=event.agent_name or event.agent_id or "")
        if ref.email or ref.name:
            people.setdefault(Criterion(criterion), []).append(ref)
    return people


def _merged(
    first: Mapping[Criterion, Sequence[PersonRef]], then: Mapping[Criterion, Sequence[PersonRef]]
) -> dict[Criterion, tuple[PersonRef, ...]]:
    """``first``'s people, then ``then``'s, each person once per criterion."""
    merged: dict[Criterion, tuple[PersonRef, ...]] = {}
    for criterion in Criterion:
        seen: set[str] = set()
        people: list[PersonRef] = []
        for ref in [*first.get(criterion, ()), *then.get(criterion, ())]:
            key = (ref.slack_user_id or ref.email or ref.name).lower()
            if key not in seen:
                seen.add(key)
                people.append(ref)
        if people:
            merged[criterion] = tuple(people)
    return merged


@dataclass(frozen=True)
class Handled:
    """What a delivery led to, for the HTTP answer."""

    outcome: str  # "recorded", "duplicate", "opened", "already_open"
    postmortem: Postmortem | None = None


@dataclass(frozen=True)
class Summary:
    """What the recorded events of one incident tell about who did what."""

    first_assignees: tuple[Ref, ...] = ()
    acknowledgers: tuple[Ref, ...] = ()
    trigger_known: bool = False
    trigger_agent: Ref | None = None
    triggered_at: datetime | None = None
    escalation_policy_id: str | None = None
    service_id: str | None = None
    service_name: str | None = None
    team_ids: tuple[str, ...] = ()
    human_involved: bool = False


def _refs(items: Any) -> tuple[Ref, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(r for r in (_ref(i) for i in items) if r is not None)


def _ref(item: Any) -> Ref | None:
    if not isinstance(item, Mapping) or not item.get("id"):
        return None
    return Ref(
        id=str(item["id"]), type=str(item.get("type", "")), name=str(item.get("summary", ""))
    )


def _unique(refs: Sequence[Ref]) -> tuple[Ref, ...]:
    seen: dict[str, Ref] = {}
    for ref in refs:
        seen.setdefault(ref.id, ref)
    return tuple(seen.values())


def summarize(events: Sequence[StoredIncidentEvent]) -> Summary:
    """Read who was assigned, acknowledged and triggered from events (oldest first)."""
    first_assignees: tuple[Ref, ...] = ()
    acknowledgers: list[Ref] = []
    trigger_known, trigger_agent, triggered_at = False, None, None
    policy = service_id = service_name = None
    team_ids: tuple[str, ...] = ()
    human = False
    for event in events:
        agent = (
            Ref(event.agent_id, event.agent_type or "", event.agent_name or "")
            if event.agent_id
            else None
        )
        human |= agent is not None and agent.is_user
        data = event.data
        if not first_assignees:
            first_assignees = tuple(r for r in _refs(data.get("assignees")) if r.is_user)
        if event.event_type == "incident.triggered" and not trigger_known:
            trigger_known, trigger_agent, triggered_at = True, agent, event.occurred_at
        if event.event_type == "incident.acknowledged" and agent is not None and agent.is_user:
            acknowledgers.append(agent)
        policy_ref = _ref(data.get("escalation_policy"))
        policy = policy_ref.id if policy_ref else policy
        service = _ref(data.get("service"))
        if service is not None:
            service_id, service_name = service.id, service.name
        teams = _refs(data.get("teams"))
        team_ids = tuple(t.id for t in teams) or team_ids
    return Summary(
        first_assignees=first_assignees,
        acknowledgers=_unique(acknowledgers),
        trigger_known=trigger_known,
        trigger_agent=trigger_agent,
        triggered_at=triggered_at or (events[0].occurred_at if events else None),
        escalation_policy_id=policy,
        service_id=service_id,
        service_name=service_name,
        team_ids=team_ids,
        human_involved=human,
    )


def with_facts(summary: Summary, facts: IncidentFacts | None) -> Summary:
    """Fill what the webhooks did not tell (e.g. the bot missed the triggered event)."""
    if facts is None:
        return summary
    trigger_known = summary.trigger_known or facts.trigger_known
    trigger_agent = summary.trigger_agent if summary.trigger_known else facts.trigger_agent
    acknowledgers = summary.acknowledgers or facts.acknowledgers
    human = (
        summary.human_involved
        or bool(facts.acknowledgers)
        or (facts.trigger_agent is not None and facts.trigger_agent.is_user)
    )
    triggered_at = summary.triggered_at
    if not summary.trigger_known and facts.created_at is not None:
        triggered_at = facts.created_at
    return Summary(
        first_assignees=summary.first_assignees or facts.assignees,
        acknowledgers=acknowledgers,
        trigger_known=trigger_known,
        trigger_agent=trigger_agent,
        triggered_at=triggered_at,
        escalation_policy_id=summary.escalation_policy_id,
        service_id=summary.service_id,
        service_name=summary.service_name,
        team_ids=summary.team_ids,
        human_involved=human,
    )


class Lookups:
    """The look-ups made for one webhook, all within one deadline (wall-clock time).

    Each call runs on ``pool``; the caller waits for it only until the deadline. A call
    still running then is left to finish on its own (the adapters' own timeouts end it),
    its answer unused; calls not started yet are cancelled, and later ones are skipped.
    """

    def __init__(self, pool: Executor, *, seconds: float, incident_key: str) -> None:
        self._pool = pool
        self._seconds = seconds
        self._ends = time.monotonic() + seconds
        self._incident_key = incident_key
        self.cut_short = False

    def one(self, what: str, call: Callable[[], T]) -> T | None:
        """``call()``'s answer, or None if it failed or the deadline passed first."""
        return self.each(what, lambda _: call(), [0]).get(0)

    def each(self, what: str, call: Callable[[K], T], keys: Iterable[K]) -> dict[K, T]:
        """``call(key)`` for each distinct key, side by side: the answers in by the deadline."""
        distinct = list(dict.fromkeys(keys))
        if not distinct or self.cut_short:
            return {}
        remaining = self._ends - time.monotonic()
        if remaining <= 0:
            self._cut(what, missing=len(distinct), of=len(distinct))
            return {}
        futures: dict[Future[T], K] = {self._pool.submit(call, key): key for key in distinct}
        done, pending = wait(futures, timeout=remaining)
        for future in pending:
            future.cancel()
        if pending:
            self._cut(what, missing=len(pending), of=len(distinct))
        answers: dict[K, T] = {}
        for future in done:
            try:
                answers[futures[future]] = future.result()
            except Exception:
                log.warning("look-up (%s) failed", what, exc_info=True)
        return answers

    def _cut(self, what: str, *, missing: int, of: int) -> None:
        self.cut_short = True
        log.warning(
            "look-ups for incident %s did not finish within %g s (%s: %d of %d unanswered): "
            "its postmortem opens with what is known",
            self._incident_key,
            self._seconds,
            what,
            missing,
            of,
        )


def led_response(summary: Summary) -> tuple[Ref, ...]:
    """First assignees who acknowledged; else the first to acknowledge; else the first assignees."""
    acked = {a.id for a in summary.acknowledgers}
    assigned_and_acked = tuple(a for a in summary.first_assignees if a.id in acked)
    if assigned_and_acked:
        return assigned_and_acked
    if summary.acknowledgers:
        return summary.acknowledgers[:1]
    return summary.first_assignees


class IncidentService:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        postmortems: PostmortemService,
        clock: Clock,
        default_channel: str | None,
        slack: SlackDirectory,
        pagerduty: PagerDutyLookups | None = None,
        lookup_seconds: float = LOOKUP_SECONDS,
    ) -> None:
        self._uow_factory = uow_factory
        self._postmortems = postmortems
        self._clock = clock
        self._default_channel = default_channel
        self._slack = slack
        self._pagerduty = pagerduty
        self._lookup_seconds = lookup_seconds
        # Threads start on first use; idle ones end with the service.
        self._lookup_pool = ThreadPoolExecutor(LOOKUP_THREADS, thread_name_prefix="lookups")

    def now(self) -> datetime:
        """The service's clock: webhooks check a sender's timestamps against it."""
        return self._clock()

    def close(self) -> None:
        """Start no more look-ups; queued ones are dropped (their webhooks have answered)."""
        self._lookup_pool.shutdown(wait=False, cancel_futures=True)

    def record_pagerduty_event(self, *, event: PagerDutyEvent, webhook_id: str | None) -> Handled:
        """Store one incident event unless this delivery (or event) was already stored."""
        now = self._clock()
        with self._uow_factory() as uow:
            if not self._first_time(uow.deliveries, event=event, webhook_id=webhook_id, now=now):
                return Handled("duplicate")
            uow.incident_events.add(
                source=PAGERDUTY,
                incident_id=event.incident_id,
                event=_stored(event),
                received_at=now,
            )
            uow.commit()
        return Handled("recorded")

    def open_from_pagerduty(self, *, event: PagerDutyEvent, webhook_id: str | None) -> Handled:
        """Open the postmortem of a resolved PagerDuty incident (at most one per incident)."""
        key = incident_key(PAGERDUTY, event.incident_id)
        with self._uow_factory() as uow:
            existing = uow.postmortems.get_by_incident_key(key)
            events = uow.incident_events.for_incident(
                source=PAGERDUTY, incident_id=event.incident_id
            )
        if existing is not None and not _takes_pagerdutys_people(existing):
            recorded = self.record_pagerduty_event(event=event, webhook_id=webhook_id)
            return Handled("already_open", self._take_resolution(existing, event, recorded))
        report, summary = self._report_from(key, event, [*events, _stored(event)])
        if existing is not None:
            updated = self._add_pagerdutys_people(existing, report)
            recorded = self.record_pagerduty_event(event=event, webhook_id=webhook_id)
            return Handled("already_open", self._take_resolution(updated, event, recorded))
        channel = self._channel(
            service_id=summary.service_id, team_ids=summary.team_ids, key=key, given=None
        )
        outcome = self._postmortems.open_postmortem(
            report=report, channel_id=channel, opened_by=PAGERDUTY
        )
        found = outcome.postmortem
        if not outcome.created and _takes_pagerdutys_people(found):
            # A person started it with the link while this delivery was looking people up.
            found = self._add_pagerdutys_people(found, report)
        recorded = self.record_pagerduty_event(event=event, webhook_id=webhook_id)
        if not outcome.created:
            found = self._take_resolution(found, event, recorded)
        return Handled("opened" if outcome.created else "already_open", found)

    def _take_resolution(
        self, postmortem: Postmortem, event: PagerDutyEvent, recorded: Handled
    ) -> Postmortem:
        """A postmortem a person started with the incident's link takes PagerDuty's
        resolution time (and severity) where they gave none.

        The time from any delivery, a redelivery too: the event is recorded before this runs,
        so a process stopped in between has only the redelivery left to take it from; and
        once taken (or corrected), the time is no longer the moment it opened, so nothing is
        undone. The severity only from the first delivery: one a person cleared since stays
        cleared."""
        if postmortem.source == PAGERDUTY:
            return postmortem
        updated = self._postmortems.take_tools_report(
            postmortem_id=postmortem.id,
            resolved_at=event.occurred_at,
            severity=_severity(event.data) if recorded.outcome == "recorded" else None,
            actor=PAGERDUTY,
        )
        return updated or postmortem

    def take_pagerduty_event(self, *, event: PagerDutyEvent, webhook_id: str | None) -> Handled:
        """Record an incident event that is not its resolution. One that comes once the
        postmortem is open and still awaits an owner (PagerDuty delivers out of order, and
        retries for 48 hours) adds the people it names to the candidates."""
        handled = self.record_pagerduty_event(event=event, webhook_id=webhook_id)
        if handled.outcome != "recorded":
            return handled
        key = incident_key(PAGERDUTY, event.incident_id)
        with self._uow_factory() as uow:
            existing = uow.postmortems.get_by_incident_key(key)
            if existing is None or existing.state is not State.AWAITING_OWNER:
                return handled
            events = uow.incident_events.for_incident(
                source=PAGERDUTY, incident_id=event.incident_id
            )
        report, _ = self._report_from(key, event, events)
        return Handled("recorded", self._add_pagerdutys_people(existing, report))

    def open_resolved(self, *, incident: ResolvedIncident) -> Handled:
        """Open the postmortem of an incident another tool resolved (at most one per incident).

        A redelivery of an open one is answered from the database, without any look-up;
        each distinct email is looked up in Slack once.
        """
        key = incident_key(incident.source, incident.incident_id)
        with self._uow_factory() as uow:
            existing = uow.postmortems.get_by_incident_key(key)
            if existing is None:  # a redelivery needs no evidence: it opens nothing
                recorded = uow.incident_events.for_incident(
                    source=incident.source, incident_id=incident.incident_id
                )
        if existing is not None:
            return Handled("already_open", self._route_if_unrouted(existing, incident))
        lookups = self._lookups(key)
        # Who earlier deliveries named (an Opsgenie Acknowledge) comes before who the
        # resolution names: they were there first.
        evidence = self._people(_merged(_recorded_people(recorded), incident.people), lookups)
        notes: tuple[str, ...] = (FALSE_ALARM_NOTE,) if incident.false_alarm else ()
        if lookups.cut_short:
            notes += (LOOKUPS_CUT_SHORT_NOTE,)
        report = IncidentReport(
            key=key,
            title=incident.title,
            source=incident.source,
            resolved_at=incident.resolved_at,
            severity=incident.severity,
            false_alarm=incident.false_alarm,
            service=incident.service,
            evidence=evidence,
            notes=notes,
        )
        channel = self._channel(service_id=None, team_ids=(), key=key, given=incident.channel_id)
        outcome = self._postmortems.open_postmortem(
            report=report, channel_id=channel, opened_by=incident.source
        )
        if not outcome.created:  # a concurrent first delivery won: its channel may be missing
            return Handled("already_open", self._route_if_unrouted(outcome.postmortem, incident))
        return Handled("opened", self._with_evidence_since(outcome.postmortem, incident, recorded))

    def take_tool_evidence(self, *, evidence: ToolEvidence) -> Handled:
        """Record who a tool says took part in its incident. Once the incident's postmortem
        is open and still awaits its owner, they join its candidates."""
        key = incident_key(evidence.source, evidence.incident_id)
        now = self._clock()
        with self._uow_factory() as uow:
            uow.incident_events.add(
                source=evidence.source,
                incident_id=evidence.incident_id,
                event=StoredIncidentEvent(
                    event_type=evidence.event_type,
                    occurred_at=evidence.occurred_at,
                    agent_type="person",
                    agent_id=evidence.person.email,
                    agent_name=evidence.person.name or None,
                    data={_CRITERION: evidence.criterion.value},
                ),
                received_at=now,
            )
            uow.commit()
        # Read after the commit: a resolution opening the postmortem from now on sees this
        # event; one that opened it before is found here.
        with self._uow_factory() as uow:
            existing = uow.postmortems.get_by_incident_key(key)
        if existing is None or existing.state is not State.AWAITING_OWNER:
            return Handled("recorded", existing)
        people = self._people({evidence.criterion: (evidence.person,)}, self._lookups(key))
        updated = self._postmortems.add_candidates(
            postmortem_id=existing.id, evidence=people, actor=evidence.source
        )
        return Handled("recorded", updated or existing)

    # -- helpers -------------------------------------------------------------------------
    def _with_evidence_since(
        self,
        postmortem: Postmortem,
        incident: ResolvedIncident,
        read: Sequence[StoredIncidentEvent],
    ) -> Postmortem:
        """Evidence recorded while the postmortem was being opened (its delivery looked for
        the postmortem before this one was committed) joins the candidates now."""
        with self._uow_factory() as uow:
            now_recorded = uow.incident_events.for_incident(
                source=incident.source, incident_id=incident.incident_id
            )
        if len(now_recorded) == len(read):
            return postmortem
        people = self._people(
            _recorded_people(now_recorded), self._lookups(postmortem.incident_key)
        )
        updated = self._postmortems.add_candidates(
            postmortem_id=postmortem.id, evidence=people, actor=incident.source
        )
        return updated or postmortem

    def _people(
        self, people: Mapping[Criterion, Sequence[PersonRef]], lookups: Lookups
    ) -> dict[Criterion, tuple[Person, ...]]:
        """Each criterion's people as Slack users: every distinct email looked up once."""
        emails: dict[str, str] = {}
        for refs in people.values():
            for ref in refs:
                if ref.slack_user_id is None and ref.email:
                    emails.setdefault(ref.email.lower(), ref.email)
        found = lookups.each(
            "Slack users by email", lambda e: self._slack.user_id_for_email(emails[e]), emails
        )

        def person(ref: PersonRef) -> Person | None:
            slack_id = ref.slack_user_id
            if slack_id is None and ref.email:
                answer = found.get(ref.email.lower())
                if answer is NOT_A_PERSON:
                    return None  # Slack says: a bot or a deactivated account
                slack_id = answer
            if slack_id is not None and ref.name in ("", ref.email):
                # Found in Slack and named by nothing but the address: Slack's name for
                # them reads better on the prompt's buttons than an email.
                return Person(slack_user_id=slack_id, name="")
            return Person(slack_user_id=slack_id, name=ref.name or ref.email or "")

        evidence = {
            criterion: tuple(p for p in map(person, refs) if p is not None)
            for criterion, refs in people.items()
        }
        return {criterion: listed for criterion, listed in evidence.items() if listed}

    @staticmethod
    def _first_time(
        deliveries: DeliveryRepository,
        *,
        event: PagerDutyEvent,
        webhook_id: str | None,
        now: datetime,
    ) -> bool:
        fresh = deliveries.first_time(source=PAGERDUTY, delivery_id=f"event:{event.id}", now=now)
        if webhook_id:
            fresh &= deliveries.first_time(
                source=PAGERDUTY, delivery_id=f"webhook:{webhook_id}", now=now
            )
        return fresh

    def _route_if_unrouted(self, existing: Postmortem, incident: ResolvedIncident) -> Postmortem:
        """A redelivery that names a channel moves a postmortem stored without one (its first
        delivery matched no route), or one whose prompt its channel refused for good: the
        sender's way to fix what it sent. Anything else keeps its channel."""
        if incident.channel_id is None or incident.channel_id == existing.channel_id:
            return existing
        try:
            return self._postmortems.move_here(
                postmortem_id=existing.id, channel_id=incident.channel_id, actor=incident.source
            )
        except DomainError:  # moved meanwhile, by a person or a concurrent delivery
            with self._uow_factory() as uow:
                return uow.postmortems.get(existing.id) or existing

    def _lookups(self, incident_key: str) -> Lookups:
        return Lookups(self._lookup_pool, seconds=self._lookup_seconds, incident_key=incident_key)

    def _add_pagerdutys_people(self, postmortem: Postmortem, report: IncidentReport) -> Postmortem:
        updated = self._postmortems.add_candidates(
            postmortem_id=postmortem.id, evidence=report.evidence, actor=PAGERDUTY
        )
        return updated or postmortem

    def _report_from(
        self, key: str, event: PagerDutyEvent, events: Sequence[StoredIncidentEvent]
    ) -> tuple[IncidentReport, Summary]:
        """What the incident's ``events`` (and PagerDuty, if they miss its trigger) say.

        Look-ups happen outside any transaction: they talk to PagerDuty and Slack.
        """
        lookups = self._lookups(key)
        summary = summarize(events)
        pagerduty = self._pagerduty
        if pagerduty is not None and not summary.trigger_known:
            facts = lookups.one(
                "PagerDuty incident",
                lambda: pagerduty.incident_facts(incident_id=event.incident_id),
            )
            summary = with_facts(summary, facts)
        return self._pagerduty_report(key, event, summary, lookups), summary

    def _pagerduty_report(
        self, key: str, event: PagerDutyEvent, summary: Summary, lookups: Lookups
    ) -> IncidentReport:
        refs: dict[Criterion, tuple[Ref, ...]] = {}
        led = led_response(summary)
        if led:
            refs[Criterion.LED_RESPONSE] = led
        pagerduty = self._pagerduty
        policy_id, triggered_at = summary.escalation_policy_id, summary.triggered_at
        if pagerduty is not None and policy_id and triggered_at:
            on_call = lookups.one(
                "PagerDuty on-call",
                lambda: pagerduty.primary_on_call(escalation_policy_id=policy_id, at=triggered_at),
            )
            if on_call:
                refs[Criterion.PRIMARY_ON_CALL] = on_call
        if summary.trigger_agent is not None and summary.trigger_agent.is_user:
            refs[Criterion.MANUALLY_TRIGGERED] = (summary.trigger_agent,)
        # Each person once, however many criteria they meet; by name if not found in time.
        everyone: dict[str, Ref] = {}
        for listed in refs.values():
            for ref in listed:
                everyone.setdefault(ref.id, ref)
        found = lookups.each(
            "PagerDuty and Slack users",
            lambda ref_id: self._person_from_pagerduty(everyone[ref_id]),
            everyone,
        )

        def person(ref: Ref) -> Person | None:
            if ref.id not in found:  # not answered in time: by name
                return Person(slack_user_id=None, name=everyone[ref.id].name or ref.id)
            return found[ref.id]  # None: Slack says a bot or a deactivated account

        evidence = {
            criterion: people
            for criterion, listed in refs.items()
            if (people := tuple(p for p in map(person, listed) if p is not None))
        }
        false_alarm = not summary.human_involved
        notes: tuple[str, ...] = (FALSE_ALARM_NOTE,) if false_alarm else ()
        if lookups.cut_short:
            notes += (LOOKUPS_CUT_SHORT_NOTE,)
        data = event.data
        return IncidentReport(
            key=key,
            title=str(data.get("title") or f"PagerDuty incident {event.incident_id}")[:300],
            source=PAGERDUTY,
            resolved_at=event.occurred_at,
            severity=_severity(data),
            false_alarm=false_alarm,
            service=summary.service_name[:200] if summary.service_name else None,
            evidence=evidence,
            notes=notes,
        )

    def _person_from_pagerduty(self, ref: Ref) -> Person | None:
        """The PagerDuty user as a candidate; None for a bot or a deactivated account."""
        email = None
        if self._pagerduty is not None:
            email = self._pagerduty.user_email(user_id=ref.id)
        slack_id = self._slack.user_id_for_email(email) if email else None
        if slack_id is NOT_A_PERSON:
            log.info("PagerDuty user %s (%s) is a bot or deactivated in Slack", ref.id, ref.name)
            return None
        if slack_id is None:
            log.info("PagerDuty user %s (%s) has no matching Slack user", ref.id, ref.name)
        return Person(slack_user_id=slack_id, name=ref.name or email or ref.id)

    def _channel(
        self, *, service_id: str | None, team_ids: tuple[str, ...], key: str, given: str | None
    ) -> str | None:
        channel = (
            given
            or self._postmortems.policy.route(service_id=service_id, team_ids=team_ids)
            or self._default_channel
        )
        if channel is None:
            log.warning(
                "incident %s matched no route and DEFAULT_CHANNEL is unset: its postmortem "
                "is stored unrouted (see /postmortem status)",
                key,
            )
        return channel


def _takes_pagerdutys_people(existing: Postmortem) -> bool:
    """A postmortem a person opened with this incident's link, still awaiting an owner: the
    people PagerDuty names (who led, who was on call, who triggered it) join its candidates."""
    return existing.source != PAGERDUTY and existing.state is State.AWAITING_OWNER


def _severity(data: Mapping[str, Any]) -> str | None:
    """The incident's priority (``P1``), if it has one; else its urgency (``high urgency``).

    Accounts without priorities still set every incident's urgency, high or low.
    """
    priority = _ref(data.get("priority"))
    if priority is not None and priority.name:
        return priority.name[:40]
    urgency = data.get("urgency")
    if isinstance(urgency, str) and urgency.strip():
        return f"{urgency.strip()} urgency"[:40]
    return None


def _stored(event: PagerDutyEvent) -> StoredIncidentEvent:
    return StoredIncidentEvent(
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        event_id=event.id,
        agent_type=event.agent.type if event.agent else None,
        agent_id=event.agent.id if event.agent else None,
        agent_name=event.agent.name if event.agent else None,
        data=dict(event.data),
    )
