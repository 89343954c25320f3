"""Ranking owner candidates by the guidance's three criteria."""

from __future__ import annotations

from bot.domain.owners import (
    CRITERION_REASONS,
    Criterion,
    Person,
    rank_candidates,
    with_more_evidence,
)

ALICE = Person("U0ALICE", "Alice")
BOB = Person("U0BOB", "Bob")
UNMAPPED = Person(None, "Pat from PagerDuty")


def test_people_meeting_more_criteria_rank_first() -> None:
    ranked = rank_candidates(
        {
            Criterion.LED_RESPONSE: (BOB,),
            Criterion.PRIMARY_ON_CALL: (ALICE,),
            Criterion.MANUALLY_TRIGGERED: (ALICE,),
        }
    )

    assert [c.person for c in ranked] == [ALICE, BOB]
    assert ranked[0].criteria == (Criterion.PRIMARY_ON_CALL, Criterion.MANUALLY_TRIGGERED)


def test_ties_keep_the_guidance_order_leading_the_response_first() -> None:
    ranked = rank_candidates(
        {Criterion.MANUALLY_TRIGGERED: (ALICE,), Criterion.LED_RESPONSE: (BOB,)}
    )

    assert [c.person for c in ranked] == [BOB, ALICE]


def test_a_person_named_twice_for_one_criterion_is_one_candidate_with_it_once() -> None:
    ranked = rank_candidates({Criterion.LED_RESPONSE: (ALICE, ALICE)})

    assert len(ranked) == 1
    assert ranked[0].criteria == (Criterion.LED_RESPONSE,)


def test_people_without_a_slack_account_are_kept_not_dropped() -> None:
    ranked = rank_candidates({Criterion.PRIMARY_ON_CALL: (UNMAPPED,)})

    assert ranked[0].person == UNMAPPED
    assert ranked[0].reasons == [CRITERION_REASONS[Criterion.PRIMARY_ON_CALL]]


def test_no_evidence_means_no_candidates() -> None:
    assert rank_candidates({}) == []


def test_more_evidence_adds_people_and_criteria_and_ranks_again() -> None:
    tess = Person("U0TESS", "Tess")
    offered = rank_candidates({Criterion.LED_RESPONSE: [BOB], Criterion.PRIMARY_ON_CALL: [ALICE]})

    ranked = with_more_evidence(
        offered,
        {Criterion.PRIMARY_ON_CALL: (ALICE,), Criterion.MANUALLY_TRIGGERED: (ALICE, tess)},
    )

    assert [(c.person.slack_user_id, c.criteria) for c in ranked] == [
        ("U0ALICE", (Criterion.PRIMARY_ON_CALL, Criterion.MANUALLY_TRIGGERED)),
        ("U0BOB", (Criterion.LED_RESPONSE,)),
        ("U0TESS", (Criterion.MANUALLY_TRIGGERED,)),
    ]


def test_someone_offered_by_name_and_found_in_slack_since_is_one_candidate() -> None:
    by_name = Person(None, "Alice")
    offered = rank_candidates({Criterion.PRIMARY_ON_CALL: [by_name]})

    ranked = with_more_evidence(offered, {Criterion.LED_RESPONSE: (ALICE,)})

    assert [(c.person, c.criteria) for c in ranked] == [
        (ALICE, (Criterion.LED_RESPONSE, Criterion.PRIMARY_ON_CALL))
    ]
