"""``postmortem-bot demo``: the whole flow offline, against a local Slack stand-in.

It runs the real app over real HTTP with signed requests, exactly as Slack would send them,
and prints the incident channel as the people in it would read it.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.bootstrap import Runtime, build_runtime
from bot.config import load_settings
from bot.devtools.live_server import LiveServer
from bot.devtools.slack_standin import SlackStandIn
from bot.devtools.transcript import readable, render_message
from bot.migrate import upgrade_to_head

SECRET = "demo-signing-secret"  # noqa: S105 - signs requests to the demo's own server
CHANNEL = "C0INCIDENT"
PEOPLE = {
    "U0ALICE": "alice (incident commander)",
    "U0BOB": "bob (on-call, payments)",
    "U0CAROL": "carol (SRE)",
}


class DemoClock:
    """Real time, plus however far the demo has jumped ahead to show the nudges."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Person:
    def __init__(self, base_url: str, user_id: str) -> None:
        self.base_url = base_url
        self.user_id = user_id

    def _post(self, form: dict[str, str]) -> str:
        body = urlencode(form)
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
        request = urllib.request.Request(  # noqa: S310 - a loopback URL we started
            f"{self.base_url}/slack/events",
            data=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": str(signature),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read().decode()
        return str(json.loads(raw).get("text", "")) if raw.startswith("{") else raw

    def command(self, text: str) -> str:
        return self._post(
            {
                "command": "/postmortem",
                "text": text,
                "channel_id": CHANNEL,
                "user_id": self.user_id,
                "team_id": "T0DEMO",
                "team_domain": "demo",
                "trigger_id": f"demo.{time.monotonic_ns()}",
                "response_url": "https://hooks.slack.com/commands/demo",
            }
        )

    def interact(self, payload: dict[str, Any]) -> None:
        payload = {
            "user": {"id": self.user_id},
            "team": {"id": "T0DEMO"},
            "channel": {"id": CHANNEL},
            "trigger_id": "demo.trigger",
            **payload,
        }
        self._post({"payload": json.dumps(payload)})


def _start_form(view_id: str) -> dict[str, Any]:
    def users(*ids: str) -> dict[str, Any]:
        return {"type": "multi_users_select", "selected_users": list(ids)}

    values = {
        "title": {"title": {"type": "plain_text_input", "value": "Checkout errors after deploy"}},
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "resolved_at": {
            "resolved_at": {"type": "datetimepicker", "selected_date_time": int(time.time()) - 600}
        },
        "false_alarm": {"false_alarm": {"type": "checkboxes", "selected_options": []}},
        "led_response": {"led_response": users("U0ALICE")},
        "primary_on_call": {"primary_on_call": users("U0BOB")},
        "manually_triggered": {"manually_triggered": users("U0ALICE")},
    }
    return {
        "id": view_id,
        "type": "modal",
        "callback_id": "postmortem.start",
        "private_metadata": CHANNEL,
        "state": {"values": values},
    }


def _document_form(view: dict[str, Any], sections: dict[str, str]) -> dict[str, Any]:
    """The document form as Slack sends it back once ``sections`` are typed in."""
    values = {
        f"document.{name}": {f"document.{name}": {"type": "plain_text_input", "value": text}}
        for name, text in sections.items()
    }
    return {**view, "id": "V0DOC", "state": {"values": values}}


def _wait_for_owner(runtime: Runtime, postmortem_id: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        postmortem = runtime.postmortems.get(postmortem_id=postmortem_id)
        if postmortem is not None and postmortem.owner_id is not None:
            return
        time.sleep(0.02)


def _wait_for_answer(
    slack: SlackStandIn, runtime: Runtime, clock: DemoClock, user_id: str, timeout: float = 10.0
) -> None:
    """Until the bot has answered ``user_id`` (an ephemeral sent after the command's ack)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runtime.dispatcher.drain(now=clock())
        if any(c.params.get("user") == user_id for c in slack.calls("chat.postEphemeral")):
            return
        time.sleep(0.02)


def _show(slack: SlackStandIn, runtime: Runtime, clock: DemoClock, seen: list[int]) -> None:
    runtime.dispatcher.drain(now=clock())
    for call in slack.calls():
        if id(call) in seen:
            continue
        seen.append(id(call))
        who = "bot"
        if call.method == "chat.postMessage":
            print(f"\n[{who}] posted in #incident:\n{render_message(call.params, PEOPLE)}")
        elif call.method == "chat.update":
            print(f"\n[{who}] updated its message in place:\n{render_message(call.params, PEOPLE)}")
        elif call.method == "chat.postEphemeral":
            to = PEOPLE.get(str(call.params.get("user")), "someone")
            text = readable(str(call.params.get("text", "")), PEOPLE)
            print(f"\n[{who}] (only visible to {to}): {text}")
        elif call.method == "views.open":
            print(f"\n[{who}] opened the form “{call.params['view']['title']['text']}”")
        elif call.method == "_upload":
            print(f"\n[{who}] uploaded a file to #incident:")
            print("\n".join(f"  │ {line}" for line in str(call.params["text"]).splitlines()))


def run_demo() -> int:
    clock = DemoClock()
    with tempfile.TemporaryDirectory() as folder, SlackStandIn() as slack:
        for user_id, name in PEOPLE.items():
            slack.add_user(user_id, f"{user_id.lower()}@example.com", real_name=name, tz="UTC")
        database_url = f"sqlite:///{folder}/demo.db"
        policy_file = f"{folder}/policy.yaml"
        with open(policy_file, "w", encoding="utf-8") as policy:
            # Around the clock, so the demo shows the nudges whatever time it is run.
            policy.write("working_hours: always\n")
        upgrade_to_head(database_url)
        settings = load_settings(
            slack_bot_token="xoxb-demo",  # noqa: S106 - the stand-in accepts any token
            slack_signing_secret=SECRET,
            slack_api_url=slack.url,
            database_url=database_url,
            postmortem_policy_file=policy_file,
        )
        runtime = build_runtime(settings, clock=clock)
        seen: list[int] = []
        try:
            with LiveServer(runtime.web_app) as server:
                alice, bob, carol = (Person(server.url, u) for u in PEOPLE)
                print("alice types: /postmortem start")
                alice.command("start")
                slack.wait_for("views.open")
                _show(slack, runtime, clock, seen)
                print("\nalice fills in the form: who led, who was on call, who triggered it")
                alice.interact({"type": "view_submission", "view": _start_form("V0DEMO")})
                _show(slack, runtime, clock, seen)

                print("\n… an hour passes with nobody volunteering …")
                clock.offset = timedelta(hours=1, minutes=1)
                _show(slack, runtime, clock, seen)

                print("\ncarol clicks [Assign bob (on-call, payments)]")
                pid = runtime.postmortems.status(channel_id=CHANNEL).open_postmortems[0].id
                carol.interact(
                    {
                        "type": "block_actions",
                        "actions": [
                            {"action_id": "owner.pick_candidate.1", "value": f"{pid}|U0BOB"}
                        ],
                    }
                )
                # A candidate's button is handled after its ack (Slack is asked who they are):
                # let carol's pick land first, as it would in the channel.
                _wait_for_owner(runtime, pid)
                print("alice clicks [I'll own it] a moment later")
                alice.interact(
                    {
                        "type": "block_actions",
                        "actions": [{"action_id": "owner.claim_self", "value": str(pid)}],
                    }
                )
                _show(slack, runtime, clock, seen)
                print("\nbob types: /postmortem status")
                status = readable(bob.command("status"), PEOPLE)
                print("[bot] (only visible to bob):")
                print("\n".join(f"  │ {line}" for line in status.splitlines()))

                print("\nbob types: /postmortem document")
                bob.command("document")
                view = slack.wait_for("views.open", count=2)[-1].params["view"]
                _show(slack, runtime, clock, seen)
                print("\nbob writes the summary and the contributing factors, and saves")
                bob.interact(
                    {
                        "type": "view_submission",
                        "view": _document_form(
                            view,
                            {
                                "summary": "Checkout failed for 12 minutes after a deploy.",
                                "contributing_factors": (
                                    "A config change and a retry storm, together; the canary "
                                    "did not cover the payments path."
                                ),
                            },
                        ),
                    }
                )
                _show(slack, runtime, clock, seen)
                due = (clock() + timedelta(days=7)).date().isoformat()
                print(f"\ncarol types: /postmortem action @carol {due} Canary the payments path")
                carol.command(f"action <@U0CAROL|carol> {due} Canary the payments path")
                # Answered after its ack, once Slack has said carol is a person.
                _wait_for_answer(slack, runtime, clock, "U0CAROL")
                _show(slack, runtime, clock, seen)
                print("\nalice types: /postmortem export")
                alice.command("export")
                _show(slack, runtime, clock, seen)
        finally:
            runtime.stop()
    return 0
