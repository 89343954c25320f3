"""`serve` with SLACK_APP_TOKEN takes commands and clicks over Socket Mode, no public URL needed.

The bot is the real console script; Slack is the Web API stand-in plus a local WebSocket
endpoint that speaks Socket Mode's envelopes and acknowledgements.
"""

from __future__ import annotations

from pathlib import Path

from bot.devtools.slack_standin import SlackStandIn
from tests.support.processes import cli_env, run_cli, running_serve, serve_process
from tests.support.signing import slash_command_fields
from tests.support.slack_user import block_actions_payload, block_text, buttons
from tests.support.socket_mode import SocketModeStandIn

APP_TOKEN = "xapp-1-A0STANDIN-1-socket"


def env_for(slack: SlackStandIn, database: str, app_token: str = APP_TOKEN) -> dict[str, str]:
    return cli_env(
        SLACK_BOT_TOKEN="xoxb-socket",
        SLACK_SIGNING_SECRET="unused-over-socket-mode",
        SLACK_APP_TOKEN=app_token,
        SLACK_API_URL=slack.url,
        DATABASE_URL=database,
        DISPATCH_INTERVAL_SECONDS="0.2",
    )


def test_a_start_and_a_claim_over_socket_mode_are_acked_and_give_one_owner(
    slack: SlackStandIn, empty_database: str
) -> None:
    with SocketModeStandIn() as socket_mode:
        slack.workspace.socket_mode_url = socket_mode.url
        with running_serve(env_for(slack, empty_database)):
            socket_mode.wait_for_connection()
            [opened] = slack.calls("apps.connections.open")
            assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"

            command = slash_command_fields(text="start Queue backlog", channel_id="C0SOCKET")
            ack = socket_mode.wait_for_ack(socket_mode.send("slash_commands", command))
            assert "Opened postmortem #1" in ack["payload"]["text"]

            [prompt] = slack.wait_for("chat.postMessage")
            assert prompt.params["channel"] == "C0SOCKET"
            assert "Queue backlog" in block_text(prompt.params["blocks"])
            claim = next(
                e for e in buttons(prompt.params["blocks"]) if e["action_id"] == "owner.claim_self"
            )
            ts = slack.messages("C0SOCKET")[0]["ts"]
            click = block_actions_payload(
                "U0BOB", {"action_id": "owner.claim_self", "value": claim["value"]}, "C0SOCKET", ts
            )
            socket_mode.wait_for_ack(socket_mode.send("interactive", click))

            [update] = slack.wait_for("chat.update")
            assert "Owner:* <@U0BOB>" in block_text(update.params["blocks"])

            again = socket_mode.send("slash_commands", command)
            assert "already has" in socket_mode.wait_for_ack(again)["payload"]["text"]


def test_an_unknown_subcommand_over_socket_mode_gets_the_usage_not_an_error(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    with SocketModeStandIn() as socket_mode:
        slack.workspace.socket_mode_url = socket_mode.url
        with running_serve(env_for(slack, f"sqlite:///{tmp_path / 'x.db'}")):
            socket_mode.wait_for_connection()
            command = slash_command_fields(text="frobnicate", channel_id="C0SOCKET")
            ack = socket_mode.wait_for_ack(socket_mode.send("slash_commands", command))

    assert "I don't know `frobnicate`" in ack["payload"]["text"]
    assert "/postmortem start" in ack["payload"]["text"]


def test_a_button_from_an_older_version_clicked_over_socket_mode_is_acked_and_explained(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    # Bolt's socket mode adapter acknowledges nothing but a 200: a click no listener took
    # went unacknowledged, and Slack showed the clicker an error.
    with SocketModeStandIn() as socket_mode:
        slack.workspace.socket_mode_url = socket_mode.url
        with running_serve(env_for(slack, f"sqlite:///{tmp_path / 'x.db'}")):
            socket_mode.wait_for_connection()
            click = block_actions_payload(
                "U0BOB", {"action_id": "owner.retired_button", "value": "1"}, "C0SOCKET"
            )
            socket_mode.wait_for_ack(socket_mode.send("interactive", click))
            [notice] = slack.wait_for("chat.postEphemeral")

    assert notice.params["user"] == "U0BOB"
    assert "older version of postmortem-bot" in notice.params["text"]


def test_a_refused_app_token_stops_serve_with_one_line_saying_what_to_check(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.fail_next("apps.connections.open", "invalid_auth")

    result = run_cli("serve", env=env_for(slack, f"sqlite:///{tmp_path / 'x.db'}"))

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()[-1:]
    assert "Slack refused SLACK_APP_TOKEN for Socket Mode (invalid_auth)" in line
    assert "connections:write" in line


def test_a_bot_token_given_as_the_app_token_is_named_before_anything_starts(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    result = run_cli("serve", env=env_for(slack, f"sqlite:///{tmp_path / 'x.db'}", "xoxb-oops"))

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "postmortem-bot: SLACK_APP_TOKEN must be an app-level token (xapp-…) with "
        "connections:write; create one under Basic Information → App-Level Tokens, or unset "
        "it to serve over HTTP only."
    ]
    assert slack.calls() == []


def test_a_misshapen_command_over_socket_mode_is_answered_with_what_is_wrong_and_stores_nothing(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    # Over HTTP such a payload is a 400 naming the field; over Socket Mode it reached the
    # listeners, which failed on it with a traceback.
    database = f"sqlite:///{tmp_path / 'x.db'}"
    with SocketModeStandIn() as socket_mode:
        slack.workspace.socket_mode_url = socket_mode.url
        with serve_process(env_for(slack, database)) as serving:
            socket_mode.wait_for_connection()
            command = slash_command_fields(text="start Queue backlog", channel_id="C0SOCKET")
            ack = socket_mode.wait_for_ack(
                socket_mode.send("slash_commands", command | {"user_id": None})
            )
            click = block_actions_payload("U0BOB", {"action_id": 7}, "C0SOCKET")
            socket_mode.wait_for_ack(socket_mode.send("interactive", click))
            status = socket_mode.wait_for_ack(
                socket_mode.send("slash_commands", command | {"text": "status"})
            )
            printed = serving.printed()

    assert ack["payload"] == {
        "response_type": "ephemeral",
        "text": "The Slack payload is missing fields it needs: user_id must be a Slack user "
        "id (U… or W…)",
    }
    assert "Traceback" not in printed
    assert "user_id must be a Slack user id" in printed
    assert "actions[0].action_id must be non-empty text" in printed
    assert "There is no open postmortem in this channel" in status["payload"]["text"]
    assert slack.calls("chat.postMessage") == []
