"""Who may own a postmortem: the guidance's three criteria, and a ranking of candidates.

A single owner avoids the bystander effect; owning is coordination, never blame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Criterion(StrEnum):
    LED_RESPONSE = "led_response"
    PRIMARY_ON_CALL = "primary_on_call"
    MANUALLY_TRIGGERED = "manually_triggered"


CRITERION_REASONS: dict[Criterion, str] = {
    Criterion.LED_RESPONSE: "was initially assigned to the alert and led the response",
    Criterion.PRIMARY_ON_CALL: "was the primary on-call for the most heavily affected service",
    # The guidance's words in full: cut after "incident" they read as "caused it", which
    # is blame, right beside a person's name.
    Criterion.MANUALLY_TRIGGERED: "manually triggered the incident to start the response",
}

# Ties keep the guidance's order of the criteria: leading the response first.
_CRITERION_ORDER = list(Criterion)


@dataclass(frozen=True)
class Person:
    """Someone named by the incident's evidence: a Slack user, or a name we could not map."""

    slack_user_id: str | None
    name: str = ""

    @property
    def key(self) -> str:
        return self.slack_user_id or f"unmapped:{self.name.lower()}"


@dataclass(frozen=True)
class Candidate:
    person: Person
    criteria: tuple[Criterion, ...]

    @property
    def reasons(self) -> list[str]:
        return [CRITERION_REASONS[c] for c in self.criteria]


def rank_candidates(evidence: Mapping[Criterion, Iterable[Person]]) -> list[Candidate]:
    """One candidate per person, ranked by how many criteria they meet (most first)."""
    people: dict[str, Person] = {}
    met: dict[str, list[Criterion]] = {}
    first_seen: dict[str, int] = {}
    for criterion in _CRITERION_ORDER:
        for person in evidence.get(criterion, ()):
            key = person.key
            if key not in people or (person.slack_user_id and not people[key].name):
                people[key] = person if person.name or key not in people else people[key]
            first_seen.setdefault(key, len(first_seen))
            if criterion not in met.setdefault(key, []):
                met[key].append(criterion)
    ranked = sorted(people, key=lambda k: (-len(met[k]), first_seen[k]))
    return [Candidate(person=people[k], criteria=tuple(met[k])) for k in ranked]


def with_more_evidence(
    candidates: Iterable[Candidate], evidence: Mapping[Criterion, Iterable[Person]]
) -> list[Candidate]:
    """``candidates`` once ``evidence`` is added to what made them: each person once, ranked
    again (the people already offered first among equals)."""
    known: dict[Criterion, list[Person]] = {criterion: [] for criterion in Criterion}
    for candidate in candidates:
        for criterion in candidate.criteria:
            known[criterion].append(candidate.person)
    for criterion, people in evidence.items():
        known[criterion].extend(people)
    # Someone offered by name only (their Slack account was not found in time) and found
    # since is one person, not two: the criteria met under the name count for the account.
    found = {p.name.casefold(): p for people in known.values() for p in people if p.slack_user_id}
    return rank_candidates(
        {
            criterion: [p if p.slack_user_id else found.get(p.name.casefold(), p) for p in people]
            for criterion, people in known.items()
        }
    )
