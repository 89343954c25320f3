"""The in-memory Slack workspace behind the stand-in: what was posted, who exists.

``FakeWorkspace.answer(method, params)`` returns the body Slack would send for one Web
API call. It is not thread-safe on its own; ``SlackStandIn`` calls it under its lock.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.messages import is_slack_user

JsonDict = dict[str, Any]

TEAM_ID = "T0STANDIN"
BOT_USER_ID = "U0STANDBOT"
BOT_ID = "B0STANDBOT"
DEFAULT_TZ = "America/New_York"


@dataclass
class FakeUser:
    id: str
    email: str | None = None
    tz: str = DEFAULT_TZ
    real_name: str = ""
    is_bot: bool = False
    extra: JsonDict = field(default_factory=dict)

    def to_slack(self) -> JsonDict:
        try:
            offset = ZoneInfo(self.tz).utcoffset(datetime.now(UTC))
        except (KeyError, ValueError, OSError):  # a zone tests give on purpose, e.g. "America"
            offset = None
        name = self.real_name or self.id
        profile: JsonDict = {"real_name": name, "display_name": name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": name.lower().replace(" ", "."),
            "real_name": name,
            "deleted": False,
            "is_bot": self.is_bot,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": profile,
            **self.extra,
        }


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true"}


def dm_channel(user_id: str) -> str:
    """The bot's direct-message channel with ``user_id`` (D…), as conversations.open says."""
    return f"D{user_id[1:]}"


class FakeWorkspace:
    """Channels, messages, users and views, answering like the Slack Web API."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, JsonDict] = {}
        self.messages: dict[str, list[JsonDict]] = defaultdict(list)
        self.upload_url_base = "http://127.0.0.1/api/"
        # Where apps.connections.open sends a Socket Mode client (a test's WebSocket server).
        self.socket_mode_url: str | None = None
        self._last_ts = 0
        self._ids = itertools.count(1)
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "apps.connections.open": self._connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": lambda _: {"message_ts": self.next_ts()},
            "chat.getPermalink": self._permalink,
            "views.open": self._view,
            "views.push": self._view,
            "views.update": self._view,
            "users.info": self._users_info,
            "users.lookupByEmail": self._lookup_by_email,
            "conversations.history": self._history,
            "conversations.info": self._conversation_info,
            "conversations.open": self._open_dm,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    def answer(self, method: str, params: JsonDict) -> JsonDict:
        handler = self._methods.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return {"ok": True, **handler(params)}

    def next_ts(self) -> str:
        # Slack ts: seconds.microseconds from the clock, and strictly increasing.
        micros = max(int(self._clock() * 1_000_000), self._last_ts + 100)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _connections_open(self, params: JsonDict) -> JsonDict:
        if self.socket_mode_url is None:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"url": self.socket_mode_url}

    def _auth_test(self, params: JsonDict) -> JsonDict:
        return {
            "url": "https://standin.slack.com/",
            "team": "Stand-in Workspace",
            "user": "postmortem-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: JsonDict) -> JsonDict:
        channel = str(params.get("channel", ""))
        # Posted to a person, it lands in the bot's DM with them; the answer names that DM.
        if is_slack_user(channel):
            channel = dm_channel(channel)
        message: JsonDict = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID}
        message["ts"] = self.next_ts()
        for key in ("text", "blocks", "attachments", "metadata", "thread_ts"):
            if key in params:
                message[key] = params[key]
        self.messages[channel].append(message)
        return {"channel": channel, "ts": message["ts"], "message": dict(message)}

    def _update_message(self, params: JsonDict) -> JsonDict:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if is_slack_user(channel):  # Slack wants the DM's own id here
            return {"ok": False, "error": "channel_not_found"}
        stored = next((m for m in self.messages[channel] if m["ts"] == ts), None)
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                stored[key] = params[key]
        stored["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
        text = stored.get("text", "")
        return {"channel": channel, "ts": ts, "text": text, "message": dict(stored)}

    def _permalink(self, params: JsonDict) -> JsonDict:
        channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
        link = f"https://standin.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"channel": channel, "permalink": link}

    def _view(self, params: JsonDict) -> JsonDict:
        view = params.get("view")
        view = dict(view) if isinstance(view, dict) else {}
        view_id = params.get("view_id") or f"V{next(self._ids):08d}"
        view.update(id=view_id, team_id=TEAM_ID, app_id="A0STANDIN", bot_id=BOT_ID)
        view.setdefault("hash", f"{int(self._clock())}.{next(self._ids)}")
        view.setdefault("state", {"values": {}})
        if params.get("external_id"):
            view["external_id"] = params["external_id"]
        return {"view": view}

    def _users_info(self, params: JsonDict) -> JsonDict:
        user_id = str(params.get("user", ""))
        return {"user": self.users.get(user_id, FakeUser(user_id)).to_slack()}

    def _lookup_by_email(self, params: JsonDict) -> JsonDict:
        email = str(params.get("email", "")).lower()
        for user in self.users.values():
            if user.email and user.email.lower() == email:
                return {"user": user.to_slack()}
        return {"ok": False, "error": "users_not_found"}

    def _history(self, params: JsonDict) -> JsonDict:
        channel = str(params.get("channel", ""))
        if is_slack_user(channel):  # a person is no conversation: their DM's id is (D…)
            return {"ok": False, "error": "channel_not_found"}
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")
        inclusive = _truthy(params.get("inclusive"))
        limit = int(params.get("limit") or 100)
        with_metadata = _truthy(params.get("include_all_metadata"))
        found = []
        for message in reversed(self.messages[channel]):
            ts = float(message["ts"])
            if (oldest < ts < latest) or (inclusive and ts in (oldest, latest)):
                shown = dict(message)
                if not with_metadata:
                    shown.pop("metadata", None)
                found.append(shown)
        return {
            "messages": found[:limit],
            "has_more": len(found) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _open_dm(self, params: JsonDict) -> JsonDict:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1 or not is_slack_user(users[0]):
            return {"ok": False, "error": "user_not_found"}
        return {"channel": {"id": dm_channel(users[0])}}

    def _conversation_info(self, params: JsonDict) -> JsonDict:
        channel_id = str(params.get("channel", ""))
        channel = {"id": channel_id, "name": f"channel-{channel_id.lower()}"}
        channel.update(self.channels.get(channel_id, {}))
        return {"channel": {"is_channel": True, "is_member": True, "is_archived": False, **channel}}

    def _upload_url(self, params: JsonDict) -> JsonDict:
        file_id = f"F{next(self._ids):08d}"
        return {"upload_url": f"{self.upload_url_base}_upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: JsonDict) -> JsonDict:
        files = params.get("files")
        listed = files if isinstance(files, list) else []
        return {"files": [{"id": f.get("id"), "title": f.get("title", "")} for f in listed]}
