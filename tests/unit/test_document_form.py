"""The `/postmortem document` form: what it shows, and what is read back from whatever Slack
(or anyone who can sign a request) sends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.document import Document, Section, fingerprint
from bot.domain.lifecycle import State
from bot.domain.postmortem import Postmortem
from bot.slack.document_form import block_id, document_modal, read_document_form

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
POSTMORTEM = Postmortem(
    id=7,
    incident_key="slack:C1:1",
    title="Checkout <errors>",
    source="slack",
    channel_id="C0INCIDENT",
    state=State.DRAFTING,
    resolved_at=NOW,
    opened_at=NOW,
    opened_by="U0ALICE",
)
DOCUMENT = Document(7, {Section.SUMMARY: "Checkout failed."}, "U0BOB", NOW, "U0BOB", NOW)


def test_the_form_shows_what_is_written_and_remembers_what_it_showed() -> None:
    view = document_modal(POSTMORTEM, DOCUMENT, "C0INCIDENT").to_dict()

    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == [block_id(s) for s in Section]
    assert inputs["document.summary"]["element"]["initial_value"] == "Checkout failed."
    assert "initial_value" not in inputs["document.impact"]["element"]
    assert "Checkout &lt;errors&gt;" in view["blocks"][0]["elements"][0]["text"]
    metadata = json.loads(view["private_metadata"])
    assert metadata["channel"] == "C0INCIDENT"
    assert metadata["id"] == 7
    assert metadata["shown"]["summary"] == fingerprint("Checkout failed.")


def sent_back(values: Any, metadata: str) -> dict[str, Any]:
    return {"state": {"values": values}, "private_metadata": metadata}


def test_an_input_sent_empty_clears_its_section_and_a_missing_one_is_left_out() -> None:
    metadata = json.dumps({"channel": "C0INCIDENT", "id": 7, "shown": {}})
    values = {"document.summary": {"document.summary": {"type": "plain_text_input", "value": None}}}

    form = read_document_form(sent_back(values, metadata))

    assert form.submitted == {Section.SUMMARY: ""}
    assert (form.channel_id, form.postmortem_id) == ("C0INCIDENT", 7)


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"state": None, "private_metadata": "not json"},
        {"state": {"values": []}, "private_metadata": "[]"},
        {"state": {"values": {"document.summary": "text"}}, "private_metadata": '{"id": true}'},
        {"state": {"values": {"document.summary": {"document.summary": "x"}}}},
    ],
)
def test_a_malformed_submission_reads_as_naming_no_postmortem_and_clearing_nothing(
    view: dict[str, Any],
) -> None:
    form = read_document_form(view)

    assert form.postmortem_id is None
    assert form.submitted == {}
