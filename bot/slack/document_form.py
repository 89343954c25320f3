"""The `/postmortem document` form: a pure builder and a pure reader.

The form remembers a fingerprint of each section as it showed it (in ``private_metadata``),
so a save writes only what this person changed, and a section someone else changed in the
meantime is refused inline instead of overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from bot.domain.document import (
    MAX_SECTION,
    SECTION_HINTS,
    SECTION_TITLES,
    Document,
    Section,
    fingerprint,
)
from bot.domain.postmortem import Postmortem
from bot.slack.form_values import json_metadata, metadata_id, submitted_values
from bot.slack.ids import Callback
from bot.slack.text import escape


def block_id(section: Section) -> str:
    """Each section's block_id (== action_id) in the form."""
    return f"document.{section.value}"


_PLACEHOLDERS: dict[Section, str] = {
    Section.SUMMARY: "e.g. Checkout failed for 40% of customers for 25 minutes after a deploy.",
    Section.IMPACT: "Customers, revenue, data, internal teams; how many, how long.",
    Section.TIMELINE: "13:02 alert fired · 13:05 acknowledged · 13:20 rolled back · …",
    Section.CONTRIBUTING_FACTORS: "Conditions and decisions that combined; no names to blame.",
    Section.WENT_WELL: "e.g. The runbook's rollback worked first time.",
    Section.RESPONSE: "Paging, escalation, communication: what helped, what got in the way.",
}


def timeline_is_empty(document: Document | None) -> bool:
    """Whether the document has no timeline yet: the form then offers a drafted one."""
    return document is None or not document.text(Section.TIMELINE).strip()


def document_modal(
    postmortem: Postmortem,
    document: Document | None,
    channel_id: str,
    *,
    timeline_draft: str = "",
) -> View:
    """Every section, pre-filled with what has been written so far.

    ``timeline_draft``: the incident's events as its tools recorded them, offered in an
    empty timeline. It is what the form shows, not what is stored: remembered as the stored
    (empty) text, so saving the form saves the draft, corrected or not, as the person's.
    """
    # Of the text as shown (what the input holds), which is what an untouched input returns.
    shown = {
        s.value: fingerprint((document.text(s) if document else "")[:MAX_SECTION]) for s in Section
    }
    by = (
        f" Last changed by <@{document.updated_by}>."
        if document is not None
        else " Nothing is written yet."
    )
    intro = (
        f"*{escape(postmortem.title)}* (#{postmortem.id}). Anyone in the channel can add to "
        "this document: writing a postmortem is collaborative, and blameless — describe what "
        "systems and people did and why it made sense at the time, not whose fault it was." + by
    )
    drafted = bool(timeline_draft) and timeline_is_empty(document)
    if drafted:
        intro += (
            " The timeline is drafted from what the incident's tools recorded: correct it, add "
            "what people did between those moments (detection, diagnosis, mitigation), and save."
        )
    blocks: list[Any] = [ContextBlock(elements=[MarkdownTextObject(text=intro)])]
    for section in Section:
        text = document.text(section) if document else ""
        if section is Section.TIMELINE and drafted:
            text = timeline_draft
        blocks.append(
            InputBlock(
                block_id=block_id(section),
                label=SECTION_TITLES[section],
                hint=SECTION_HINTS[section],
                optional=True,
                element=PlainTextInputElement(
                    action_id=block_id(section),
                    multiline=True,
                    max_length=MAX_SECTION,
                    initial_value=text[:MAX_SECTION] or None,
                    placeholder=_PLACEHOLDERS[section],
                ),
            )
        )
    return View(
        type="modal",
        callback_id=Callback.DOCUMENT_MODAL.value,
        private_metadata=json.dumps(
            {
                "channel": channel_id,
                "id": postmortem.id,
                "shown": shown,
                # The draft as offered: saved untouched only while nothing else is stored.
                **({"drafted": fingerprint(timeline_draft[:MAX_SECTION])} if drafted else {}),
            }
        ),
        title="Postmortem document",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )


@dataclass(frozen=True)
class DocumentForm:
    channel_id: str
    postmortem_id: int | None
    submitted: dict[Section, str]
    shown: dict[Section, str]
    # Sections the form offered a draft in (the timeline): the draft's fingerprint.
    drafted: dict[Section, str] = field(default_factory=dict)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_document_form(view: dict[str, Any]) -> DocumentForm:
    """What the form sent back. A section whose input is missing is left out (never read as
    cleared: that would delete what others wrote); an input sent empty (``null``) clears it.
    """
    values = submitted_values(view)
    metadata = json_metadata(view)
    shown_raw = _dict(metadata.get("shown"))
    submitted: dict[Section, str] = {}
    for section in Section:
        field = _dict(values.get(block_id(section))).get(block_id(section))
        if not isinstance(field, dict):
            continue
        value = field.get("value")
        submitted[section] = value if isinstance(value, str) else ""
    channel = metadata.get("channel")
    return DocumentForm(
        channel_id=channel if isinstance(channel, str) else "",
        postmortem_id=metadata_id(metadata.get("id")),
        submitted=submitted,
        shown={s: str(shown_raw[s.value]) for s in Section if s.value in shown_raw},
        drafted=(
            {Section.TIMELINE: metadata["drafted"]}
            if isinstance(metadata.get("drafted"), str)
            else {}
        ),
    )
