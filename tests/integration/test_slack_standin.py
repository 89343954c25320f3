"""The Slack stand-in answers a real slack_sdk WebClient the way Slack would."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.devtools.slack_standin import SlackStandIn

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Who owns this?*"}}]
METADATA = {"event_type": "postmortem_nudge", "event_payload": {"nudge_id": 7}}


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(base_url=slack.url, token="xoxb-test", timeout=5)


def test_posted_message_is_recorded_with_its_blocks_decoded(
    slack: SlackStandIn, client: WebClient
) -> None:
    response = client.chat_postMessage(channel="C1", text="owner?", blocks=BLOCKS)

    [call] = slack.wait_for("chat.postMessage")
    assert call.params["blocks"] == BLOCKS
    assert call.params["channel"] == "C1"
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert response["channel"] == "C1"
    assert response["message"]["blocks"] == BLOCKS


def test_each_posted_message_gets_a_later_ts(slack: SlackStandIn, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C1", text="one")["ts"]
    second = client.chat_postMessage(channel="C1", text="two")["ts"]

    assert float(second) > float(first)
    assert len(second.split(".")[1]) == 6


def test_form_encoded_json_fields_are_decoded(slack: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]

    client.chat_update(channel="C1", ts=ts, text="v2", blocks=BLOCKS)

    [call] = slack.calls("chat.update")
    assert call.params["blocks"] == BLOCKS
    assert slack.messages("C1")[0]["text"] == "v2"


def test_history_returns_posted_messages_newest_first_with_metadata_when_asked(
    slack: SlackStandIn, client: WebClient
) -> None:
    client.chat_postMessage(channel="C1", text="first", metadata=METADATA)
    client.chat_postMessage(channel="C1", text="second")
    client.chat_postMessage(channel="C2", text="elsewhere")

    with_metadata = client.conversations_history(channel="C1", include_all_metadata=True)
    without = client.conversations_history(channel="C1")

    assert [m["text"] for m in with_metadata["messages"]] == ["second", "first"]
    assert with_metadata["messages"][1]["metadata"] == METADATA
    assert "metadata" not in without["messages"][1]


def test_history_honors_oldest_and_limit(slack: SlackStandIn, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C1", text="a")["ts"]
    client.chat_postMessage(channel="C1", text="b")
    client.chat_postMessage(channel="C1", text="c")

    after_first = client.conversations_history(channel="C1", oldest=first)
    newest = client.conversations_history(channel="C1", limit=1)

    assert [m["text"] for m in after_first["messages"]] == ["c", "b"]
    assert [m["text"] for m in newest["messages"]] == ["c"]
    assert newest["has_more"] is True


def test_injected_failure_reaches_the_client_as_slack_api_error(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.fail_next("chat.postMessage", error="channel_not_found")

    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel="C404", text="hello")
    assert failure.value.response["error"] == "channel_not_found"

    assert client.chat_postMessage(channel="C404", text="hello again")["ok"] is True


def test_rate_limit_answers_429_with_retry_after(slack: SlackStandIn, client: WebClient) -> None:
    slack.rate_limit_next("chat.postMessage", retry_after=3)

    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel="C1", text="hello")

    assert failure.value.response.status_code == 429
    assert failure.value.response.headers["Retry-After"] == "3"
    assert failure.value.response["error"] == "ratelimited"


def test_slack_sdks_rate_limit_handler_retries_through_a_429(slack: SlackStandIn) -> None:
    client = WebClient(base_url=slack.url, token="xoxb-test", timeout=5)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    slack.rate_limit_next("chat.postMessage", retry_after=1)

    started = time.monotonic()
    response = client.chat_postMessage(channel="C1", text="eventually")

    assert response["ok"] is True
    assert time.monotonic() - started >= 1.0
    assert len(slack.calls("chat.postMessage")) == 2
    assert [m["text"] for m in slack.messages("C1")] == ["eventually"]


def test_lookup_by_email_finds_registered_users_only(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.add_user("U1", "ana@example.com", tz="Europe/Lisbon", real_name="Ana")

    found = client.users_lookupByEmail(email="ana@example.com")
    with pytest.raises(SlackApiError) as missing:
        client.users_lookupByEmail(email="nobody@example.com")

    assert found["user"]["id"] == "U1"
    assert found["user"]["tz"] == "Europe/Lisbon"
    assert missing.value.response["error"] == "users_not_found"


def test_users_info_defaults_to_new_york_with_overrides(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.add_user("U2", "bo@example.com", tz="Asia/Tokyo", real_name="Bo")

    default = client.users_info(user="U9")["user"]
    override = client.users_info(user="U2")["user"]

    assert default["tz"] == "America/New_York"
    assert default["tz_offset"] in (-18000, -14400)
    assert override["tz_offset"] == 9 * 3600
    assert override["profile"]["email"] == "bo@example.com"
    assert override["real_name"] == "Bo"


def test_views_get_an_id_that_update_keeps(slack: SlackStandIn, client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Postmortem"}, "blocks": []}

    opened = client.views_open(trigger_id="123.456", view=view)["view"]
    updated = client.views_update(view_id=opened["id"], view=view)["view"]

    assert opened["id"].startswith("V")
    assert updated["id"] == opened["id"]
    assert slack.calls("views.open")[0].params["view"]["title"]["text"] == "Postmortem"


def test_file_upload_v2_flow_is_answered(slack: SlackStandIn, client: WebClient) -> None:
    response = client.files_upload_v2(channel="C1", content="# Postmortem", filename="pm.md")

    assert response["file"]["id"].startswith("F")
    assert slack.calls("_upload")[0].params["size"] == len("# Postmortem")


def test_requests_without_a_valid_token_are_refused(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as anonymous:
        WebClient(base_url=slack.url).auth_test()
    with pytest.raises(SlackApiError) as bogus:
        WebClient(base_url=slack.url, token="not-a-token").auth_test()

    assert anonymous.value.response["error"] == "not_authed"
    assert bogus.value.response["error"] == "invalid_auth"


def test_auth_test_identifies_the_bot(client: WebClient) -> None:
    response = client.auth_test()

    assert response["user_id"].startswith("U")
    assert response["bot_id"].startswith("B")


def test_unknown_methods_are_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as failure:
        client.api_call("no.such.method")

    assert failure.value.response["error"] == "unknown_method"


def test_delay_holds_the_answer_back(slack: SlackStandIn, client: WebClient) -> None:
    slack.delay("auth.test", 0.3)

    started = time.monotonic()
    client.auth_test()

    assert time.monotonic() - started >= 0.3


def test_wait_for_names_what_was_called_when_it_times_out(
    slack: SlackStandIn, client: WebClient
) -> None:
    client.auth_test()

    with pytest.raises(AssertionError, match=r"chat\.postMessage.*auth\.test"):
        slack.wait_for("chat.postMessage", timeout=0.2)


def test_reset_forgets_calls_and_messages(slack: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x")

    slack.reset()

    assert slack.calls() == []
    assert client.conversations_history(channel="C1")["messages"] == []


def test_an_app_token_opens_socket_mode_connections_and_nothing_else(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.workspace.socket_mode_url = "ws://127.0.0.1:9/link/?ticket=1"
    app_client = WebClient(base_url=slack.url, token="xapp-1-A1-1-x", timeout=5)

    assert app_client.apps_connections_open(app_token="xapp-1-A1-1-x")["url"].startswith("ws://")
    with pytest.raises(SlackApiError) as posted:
        app_client.chat_postMessage(channel="C1", text="hi")
    with pytest.raises(SlackApiError) as opened:
        client.apps_connections_open(app_token="xoxb-test")

    assert posted.value.response["error"] == "not_allowed_token_type"
    assert opened.value.response["error"] == "not_allowed_token_type"
