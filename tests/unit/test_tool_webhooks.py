"""The Opsgenie and Grafana OnCall payload readers and the bearer token check, without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.owners import Criterion
from bot.services.incidents import PersonRef, ResolvedIncident, ToolEvidence
from bot.webhooks.grafana_oncall import parse_grafana_oncall
from bot.webhooks.http import BadRequest
from bot.webhooks.opsgenie import epoch_time, parse_opsgenie, severity
from bot.webhooks.signature import bearer_token_matches
from bot.webhooks.tools import person_ref, title_text
from tests.support.vendor import vendor_bytes, vendor_json

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


# -- Unix times, whatever their unit ----------------------------------------------------------


def test_opsgenies_nanosecond_and_millisecond_times_are_read_by_their_size() -> None:
    alert = vendor_json("opsgenie_close_zulip_fixture.json")["alert"]

    assert alert["updatedAt"] == 1420452374669001603  # nanoseconds
    assert epoch_time(alert["updatedAt"]) == datetime(2015, 1, 5, 10, 6, 14, 669001, tzinfo=UTC)
    assert alert["createdAt"] == 1420452191104  # milliseconds
    assert epoch_time(alert["createdAt"]) == datetime(2015, 1, 5, 10, 3, 11, 104000, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", [1764000000, 1764000000_000, 1764000000_000_000, 1764000000_000_000_000]
)
def test_seconds_milliseconds_microseconds_and_nanoseconds_give_the_same_time(value: int) -> None:
    assert epoch_time(value) == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)


def test_the_smallest_time_of_each_unit_is_read_in_that_unit() -> None:
    assert epoch_time(946684800) == datetime(2000, 1, 1, tzinfo=UTC)  # 9 digits: seconds
    assert epoch_time(946684800_000) == datetime(2000, 1, 1, tzinfo=UTC)
    assert epoch_time(946684800_000_000) == datetime(2000, 1, 1, tzinfo=UTC)
    assert epoch_time(946684800_000_000_000) == datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["1764000000", True, None, -1, float("inf"), 10**30, [1]])
def test_anything_but_a_usable_unix_time_is_a_value_error(value: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is the field's 400
        epoch_time(value)


# -- the bearer token ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ("Bearer s3cret", True),
        ("bearer s3cret", True),
        ("BEARER   s3cret  ", True),
        ("Bearer other", True),
        ("Bearer s3cret,other", False),
        ("Bearer s3cre", False),
        ("Bearer s3cretx", False),
        ("Bearer ", False),
        ("Bearer", False),
        ("s3cret", False),
        ("Basic s3cret", False),
        ("Token s3cret", False),
        ("", False),
        (None, False),
    ],
)
def test_the_token_must_be_one_of_the_secrets(header: str | None, matches: bool) -> None:
    assert bearer_token_matches(header, ("s3cret", "other")) is matches


def test_no_token_matches_when_no_secret_is_set() -> None:
    assert bearer_token_matches("Bearer ", ()) is False
    assert bearer_token_matches("Bearer anything", ()) is False


# -- Opsgenie --------------------------------------------------------------------------------


def close(**alert: Any) -> bytes:
    payload = vendor_json("opsgenie_close_zulip_fixture.json")
    payload["alert"].update(alert)
    return json.dumps(payload).encode()


def test_the_captured_close_reads_as_a_resolved_incident() -> None:
    incident = parse_opsgenie(
        vendor_bytes("opsgenie_close_zulip_fixture.json"), now=NOW, channel="C0OPS"
    )

    assert isinstance(incident, ResolvedIncident)
    assert (incident.source, incident.incident_id) == (
        "opsgenie",
        "052652ac-5d1c-464a-812a-7dd18bbfba8c",
    )
    assert incident.title == "test alert"
    assert incident.resolved_at == datetime(2015, 1, 5, 10, 6, 14, 669001, tzinfo=UTC)
    assert incident.channel_id == "C0OPS"
    assert incident.severity is None
    assert incident.people == {}


def test_the_owner_led_the_response() -> None:
    incident = parse_opsgenie(close(owner="user2@ifountain.com"), now=NOW, channel=None)

    assert isinstance(incident, ResolvedIncident)
    assert incident.people == {
        Criterion.LED_RESPONSE: (
            PersonRef(email="user2@ifountain.com", name="user2@ifountain.com"),
        )
    }


@pytest.mark.parametrize(
    ("name", "who"),
    [
        ("opsgenie_acknowledge_zulip_fixture.json", "fili@ifountain.com"),
        ("opsgenie_assignownership_zulip_fixture.json", "user2@ifountain.com"),
    ],
)
def test_who_acknowledged_or_was_given_the_alert_is_evidence_they_led_the_response(
    name: str, who: str
) -> None:
    evidence = parse_opsgenie(vendor_bytes(name), now=NOW, channel=None)

    assert evidence == ToolEvidence(
        source="opsgenie",
        incident_id="052652ac-5d1c-464a-812a-7dd18bbfba8c",
        event_type=vendor_json(name)["action"],
        occurred_at=epoch_time(vendor_json(name)["alert"]["updatedAt"]),
        criterion=Criterion.LED_RESPONSE,
        person=PersonRef(email=who, name=who),
    )


def test_an_acknowledge_naming_nobody_is_ignored_and_one_without_its_alert_id_is_refused() -> None:
    payload = vendor_json("opsgenie_acknowledge_zulip_fixture.json")
    payload["alert"]["username"] = ""
    nobody = parse_opsgenie(json.dumps(payload).encode(), now=NOW, channel=None)
    del payload["alert"]["alertId"]

    assert nobody == "action Acknowledge names nobody (alert.username is empty)"
    with pytest.raises(BadRequest, match=r"alert\.alertId"):
        parse_opsgenie(json.dumps(payload).encode(), now=NOW, channel=None)


@pytest.mark.parametrize("name", ["opsgenie_create_doc.json", "opsgenie_create_zulip_fixture.json"])
def test_actions_other_than_close_are_ignored_saying_which(name: str) -> None:
    reason = parse_opsgenie(vendor_bytes(name), now=NOW, channel=None)

    assert isinstance(reason, str)
    assert f"action {vendor_json(name)['action']} " in reason


def test_the_documented_sample_messages_leading_space_is_stripped() -> None:
    payload = vendor_json("opsgenie_create_doc.json")
    assert payload["alert"]["message"] == " test alert"
    payload["action"] = "Close"

    incident = parse_opsgenie(json.dumps(payload).encode(), now=NOW, channel=None)

    assert isinstance(incident, ResolvedIncident)
    assert incident.title == "test alert"


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("P1", "P1"),
        (" P5 ", "P5"),
        (3, "P3"),
        ("3", "P3"),  # a custom integration's text
        (" 2 ", "P2"),
        (9, "9"),
        ("9", "9"),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_the_priority_is_the_severity(priority: Any, expected: str | None) -> None:
    assert severity(priority) == expected


def test_a_blank_message_still_opens_one_named_after_the_alert() -> None:
    incident = parse_opsgenie(close(message="   "), now=NOW, channel=None)

    assert isinstance(incident, ResolvedIncident)
    assert incident.title == "Opsgenie alert 052652ac-5d1c-464a-812a-7dd18bbfba8c"


# -- Grafana OnCall ------------------------------------------------------------------------------


def resolve(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = vendor_json("grafana_oncall_outgoing_webhook_resolve_doc.json")
    payload.update(changes)
    return payload


def test_the_documented_resolve_reads_as_a_resolved_incident() -> None:
    incident = parse_grafana_oncall(
        vendor_bytes("grafana_oncall_outgoing_webhook_resolve_doc.json"), now=NOW, channel=None
    )

    assert isinstance(incident, ResolvedIncident)
    assert (incident.source, incident.incident_id, incident.title) == (
        "grafana-oncall",
        "I6HNZGUFG4K11",
        "Incident",
    )
    assert incident.resolved_at == datetime(2023, 4, 19, 21, 59, 21, 714058, tzinfo=UTC)
    assert incident.severity is None  # only an "urgency" label
    assert incident.people == {
        Criterion.LED_RESPONSE: (PersonRef(email="admin@localhost", name="admin"),)
    }


def grafana_severity(payload: dict[str, Any]) -> str | None:
    incident = parse_grafana_oncall(json.dumps(payload).encode(), now=NOW, channel=None)
    assert isinstance(incident, ResolvedIncident)
    return incident.severity


def test_the_alert_groups_severity_label_comes_before_the_alerts() -> None:
    alert_only = resolve()
    alert_only["alert_payload"]["labels"]["severity"] = "warning"
    both = resolve()
    both["alert_payload"]["labels"]["severity"] = "warning"
    both["alert_group"]["labels"]["severity"] = "critical"
    alertmanager = resolve(alert_payload={"commonLabels": {"severity": "page"}, "alerts": []})
    odd_labels = resolve(alert_payload=["not", "a", "mapping"])
    odd_labels["alert_group"]["labels"] = [{"key": "severity", "value": "critical"}]

    assert grafana_severity(both) == "critical"
    assert grafana_severity(alert_only) == "warning"
    assert grafana_severity(alertmanager) == "page"
    assert grafana_severity(odd_labels) is None


def test_an_acknowledger_without_an_email_is_listed_by_username() -> None:
    payload = resolve(alert_group_acknowledged_by={"id": "U1", "username": "ops-bob"})

    incident = parse_grafana_oncall(json.dumps(payload).encode(), now=NOW, channel=None)

    assert isinstance(incident, ResolvedIncident)
    assert incident.people == {Criterion.LED_RESPONSE: (PersonRef(name="ops-bob"),)}


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"[]",
        b'{"event": null}',
        b'{"event": {"type": "resolve"}, "alert_group": []}',
        b'{"event": {"type": "resolve"}, "alert_group": {"id": "A", "title": 1}}',
        b'{"event": {"type": "resolve", "time": 5}, "alert_group": {"id": "A", "title": "t"}}',
        b'{"event": {"type": "resolve"}, "alert_group": {"id": "A", "title": "t", '
        b'"resolved_at": "9999-12-31T23:59:59Z"}}',
        b'{"event": {"type": "resolve"}, "alert_group": {"id": "A", "title": "t", '
        b'"resolved_at": "0001-01-01T00:30:00+01:00"}}',
    ],
)
def test_odd_grafana_bodies_are_bad_requests_not_crashes(body: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_grafana_oncall(body, now=NOW, channel=None)


# -- shared text rules ---------------------------------------------------------------------------


def test_people_are_emails_to_look_up_or_names_to_show() -> None:
    assert person_ref("a@example.com") == PersonRef(email="a@example.com", name="a@example.com")
    assert person_ref("a@example.com", name="Ann") == PersonRef(email="a@example.com", name="Ann")
    assert person_ref("ann") == PersonRef(name="ann")
    assert person_ref(" ") is None
    assert person_ref(None) is None
    assert person_ref(42) is None
    assert person_ref(None, name="Ann") == PersonRef(name="Ann")


def test_titles_are_cleaned_and_cut_to_what_can_be_stored() -> None:
    assert title_text(" a\u0000b ", fallback="x") == "ab"
    assert title_text("\ud83d", fallback="x") == "\ufffd"
    assert title_text("", fallback="x") == "x"
    assert title_text(None, fallback="x") == "x"
    assert len(title_text("y" * 1000, fallback="x")) == 300
