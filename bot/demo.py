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

    def click(self, action_id: str, value: str) -> None:
        self.interact(
            {"type": "block_actions", "actions": [{"action_id": action_id, "value": value}]}
        )

    def submit(self, view: dict[str, Any]) -> None:
        self.interact({"type": "view_submission", "view": view})


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


def _schedule_form(view: dict[str, Any], at: datetime, people: list[str]) -> dict[str, Any]:
    """The schedule form as Slack sends it back once a time and the participants are chosen."""
    values = {
        "meeting_time": {
            "meeting_time": {"type": "datetimepicker", "selected_date_time": int(at.timestamp())}
        },
        "meeting_participants": {
            "meeting_participants": {"type": "multi_users_select", "selected_users": people}
        },
        "meeting_justification": {
            "meeting_justification": {"type": "plain_text_input", "value": None}
        },
    }
    return {**view, "id": "V0SCHEDULE", "state": {"values": values}}


def _wait_for_owner(runtime: Runtime, postmortem_id: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        postmortem = runtime.postmortems.get(postmortem_id=postmortem_id)
        if postmortem is not None and postmortem.owner_id is not None:
            return
        time.sleep(0.02)


class Scene:
    """What the channel has seen so far, printed as it happens."""

    def __init__(self, slack: SlackStandIn, runtime: Runtime, clock: DemoClock) -> None:
        self.slack = slack
        self.runtime = runtime
        self.clock = clock
        self._seen: set[int] = set()
        self._forms = 0

    def show(self) -> None:
        """Send what is due, then print every Slack call not printed yet."""
        self.runtime.dispatcher.drain(now=self.clock())
        for call in self.slack.calls():
            if id(call) in self._seen:
                continue
            self._seen.add(id(call))
            _print_call(call.method, call.params)

    def opened_form(self) -> dict[str, Any]:
        """The form the bot opened for the command just typed (it opens after the ack)."""
        self._forms += 1
        view: dict[str, Any] = self.slack.wait_for("views.open", count=self._forms)[-1].params[
            "view"
        ]
        self.show()
        return view

    def wait_for_answer(self, user_id: str, timeout: float = 10.0) -> None:
        """Until the bot has answered ``user_id`` (an ephemeral sent after the command's ack)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.runtime.dispatcher.drain(now=self.clock())
            if any(c.params.get("user") == user_id for c in self.slack.calls("chat.postEphemeral")):
                return
            time.sleep(0.02)

    def answered(self, name: str, text: str) -> None:
        """An ephemeral answer that came with the ack."""
        lines = readable(text, PEOPLE).splitlines()
        print(f"[bot] (only visible to {name}):")
        print("\n".join(f"  │ {line}" for line in lines))


def _print_call(method: str, params: dict[str, Any]) -> None:
    if method == "chat.postMessage":
        # A direct message's channel is the person's user id.
        to = PEOPLE.get(str(params.get("channel")))
        where = f"sent {to} a direct message" if to else "posted in #incident"
        print(f"\n[bot] {where}:\n{render_message(params, PEOPLE)}")
    elif method == "chat.update":
        print(f"\n[bot] updated its message in place:\n{render_message(params, PEOPLE)}")
    elif method == "chat.postEphemeral":
        to = PEOPLE.get(str(params.get("user")), "someone")
        print(f"\n[bot] (only visible to {to}): {readable(str(params.get('text', '')), PEOPLE)}")
    elif method == "views.open":
        print(f"\n[bot] opened the form “{params['view']['title']['text']}”")
    elif method == "_upload":
        print("\n[bot] uploaded a file to #incident:")
        print("\n".join(f"  │ {line}" for line in str(params["text"]).splitlines()))


def _open_and_pick_an_owner(scene: Scene, alice: Person, bob: Person, carol: Person) -> int:
    print("alice types: /postmortem start")
    alice.command("start")
    scene.opened_form()
    print("\nalice fills in the form: who led, who was on call, who triggered it")
    alice.submit(_start_form("V0DEMO"))
    scene.show()

    print("\n… an hour passes with nobody volunteering …")
    scene.clock.offset = timedelta(hours=1, minutes=1)
    scene.show()

    print("\ncarol clicks [Assign bob (on-call, payments)]")
    pid = scene.runtime.postmortems.status(channel_id=CHANNEL).open_postmortems[0].id
    carol.click("owner.pick_candidate.1", f"{pid}|U0BOB")
    # A candidate's button is handled after its ack (Slack is asked who they are): let
    # carol's pick land first, as it would in the channel.
    _wait_for_owner(scene.runtime, pid)
    print("alice clicks [I'll own it] a moment later")
    alice.click("owner.claim_self", str(pid))
    scene.show()
    print("\nbob types: /postmortem status")
    scene.answered("bob", bob.command("status"))
    return pid


def _write_it(scene: Scene, bob: Person, carol: Person) -> None:
    print("\nbob types: /postmortem document")
    bob.command("document")
    view = scene.opened_form()
    print("\nbob writes the summary and the contributing factors, and saves")
    summary = "Checkout failed for 12 minutes after a deploy."
    factors = (
        "A config change and a retry storm, together; the canary did not cover the payments path."
    )
    bob.submit(_document_form(view, {"summary": summary, "contributing_factors": factors}))
    scene.show()
    due = (scene.clock() + timedelta(days=7)).date().isoformat()
    print(f"\ncarol types: /postmortem action @carol {due} Canary the payments path")
    carol.command(f"action <@U0CAROL|carol> {due} Canary the payments path")
    # Answered after its ack, once Slack has said carol is a person.
    scene.wait_for_answer("U0CAROL")
    scene.show()


def _meet_and_complete(scene: Scene, pid: int, alice: Person, bob: Person) -> None:
    print("\nbob types: /postmortem schedule")
    bob.command("schedule")
    view = scene.opened_form()
    meeting = (scene.clock() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    print(f"\nbob picks {meeting:%a %d %b %H:%M} UTC and invites alice and carol")
    bob.submit(_schedule_form(view, meeting, ["U0ALICE", "U0CAROL"]))
    scene.show()

    print("\n… two days later, the meeting takes place …")
    scene.clock.offset = meeting - datetime.now(UTC) + timedelta(hours=1, minutes=5)
    scene.show()
    print("\nbob clicks [Mark meeting held]")
    bob.click("lifecycle.mark_held", str(pid))
    scene.show()
    print("\nbob types: /postmortem done")
    scene.answered("bob", bob.command("done"))
    scene.show()

    print(f"\nalice types: /postmortem document #{pid}")
    alice.command(f"document #{pid}")
    view = scene.opened_form()
    print("\nalice writes how the incident response worked, and saves")
    response = "Paged within 2 minutes; the rollback took 8 because the runbook was out of date."
    alice.submit(_document_form(view, {"response": response}))
    scene.show()
    print(f"\nalice types: /postmortem export #{pid}")
    alice.command(f"export #{pid}")
    scene.show()


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
        scene = Scene(slack, runtime, clock)
        try:
            with LiveServer(runtime.web_app) as server:
                alice, bob, carol = (Person(server.url, u) for u in PEOPLE)
                pid = _open_and_pick_an_owner(scene, alice, bob, carol)
                _write_it(scene, bob, carol)
                _meet_and_complete(scene, pid, alice, bob)
        finally:
            runtime.stop()
    return 0
