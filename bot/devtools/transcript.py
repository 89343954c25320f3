"""Render what the stand-in recorded as a person would read it in Slack (for the demo)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")


def readable(text: str, names: Mapping[str, str]) -> str:
    text = _DATE.sub(r"\1", text)
    text = _USER.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    return _LINK.sub(r"\2", text)


def _element(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{element['text']['text']}]"
    if kind in ("users_select", "multi_users_select"):
        placeholder = (element.get("placeholder") or {}).get("text", "Choose someone")
        return f"[{placeholder} ▾]"
    return f"[{kind}]"


def render_blocks(blocks: list[Mapping[str, Any]], names: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            lines.append(readable(block["text"]["text"], names))
        elif kind == "actions":
            lines.append("  ".join(_element(e) for e in block.get("elements", [])))
        elif kind == "context":
            lines.append(" · ".join(readable(e.get("text", ""), names) for e in block["elements"]))
    return lines


def render_message(message: Mapping[str, Any], names: Mapping[str, str]) -> str:
    blocks = message.get("blocks")
    body = render_blocks(blocks, names) if blocks else [readable(message.get("text", ""), names)]
    return "\n".join("  │ " + line for text in body for line in text.splitlines())
