"""`/postmortem start` with no title: a form asks for the details, validated inline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.domain.owners import CRITERION_REASONS, Criterion
from tests.conftest import BotHarness
from tests.support.slack_user import block_text, buttons


def form(
    *,
    title: str = "Checkout errors",
    resolved_epoch: int | None = None,
    led: tuple[str, ...] = (),
    on_call: tuple[str, ...] = (),
    triggered: tuple[str, ...] = (),
    false_alarm: bool = False,
    pagerduty_link: str | None = None,
) -> dict[str, Any]:
    def users(block: str, ids: tuple[str, ...]) -> dict[str, Any]:
        return {block: {"type": "multi_users_select", "selected_users": list(ids)}}

    values: dict[str, Any] = {
        "title": {"title": {"type": "plain_text_input", "value": title}},
        "pagerduty_incident": {
            "pagerduty_incident": {"type": "plain_text_input", "value": pagerduty_link}
        },
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "SEV2"}}},
        "resolved_at": {
            "resolved_at": {"type": "datetimepicker", "selected_date_time": resolved_epoch}
        },
        "false_alarm": {
            "false_alarm": {
                "type": "checkboxes",
                "selected_options": [{"value": "yes"}] if false_alarm else [],
            }
        },
        "led_response": users("led_response", led),
        "primary_on_call": users("primary_on_call", on_call),
        "manually_triggered": users("manually_triggered", triggered),
    }
    return {
        "id": "V0FORM",
        "type": "modal",
        "callback_id": "postmortem.start",
        "private_metadata": "C0INCIDENT",
        "state": {"values": values},
    }


def test_start_without_a_title_opens_the_form_after_acking(bot: BotHarness) -> None:
    response = bot.user("U0ALICE").command("start")

    assert response.status_code == 200
    opened = bot.slack.wait_for("views.open")[0].params
    view = opened["view"]
    assert view["callback_id"] == "postmortem.start"
    assert view["private_metadata"] == "C0INCIDENT"
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert block_ids == [
        "title",
        "pagerduty_incident",
        "severity",
        "resolved_at",
        "false_alarm",
        "led_response",
        "primary_on_call",
        "manually_triggered",
    ]


@pytest.mark.parametrize("title", ["   ", "\u200b \u2060"])
def test_an_empty_or_invisible_title_is_refused_inline_and_nothing_is_stored(
    bot: BotHarness, title: str
) -> None:
    response = bot.user("U0ALICE").submit_view(form(title=title))

    assert response.status_code == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {"title": "Give the incident a short title."},
    }
    assert bot.runtime.postmortems.get(postmortem_id=1) is None


def test_a_resolution_time_in_the_future_is_refused_inline(bot: BotHarness) -> None:
    future = int(bot.clock().timestamp()) + 3600

    response = bot.user("U0ALICE").submit_view(form(resolved_epoch=future))

    assert response.json()["errors"] == {
        "resolved_at": "The resolution time can't be in the future."
    }


def test_candidates_are_ranked_by_how_many_criteria_they_meet_with_reasons(
    bot: BotHarness,
) -> None:
    bot.slack.add_user("U0BOB", "bob@example.com", real_name="Bob")
    bot.slack.add_user("U0ALICE", "alice@example.com", real_name="Alice")

    response = bot.user("U0CAROL").submit_view(
        form(led=("U0ALICE",), on_call=("U0BOB",), triggered=("U0ALICE",))
    )

    assert response.status_code == 200
    assert response.content in (b"", b"null") or response.json() == {}
    prompt = bot.slack.wait_for("chat.postMessage")[0].params
    text = block_text(prompt["blocks"])
    alice_line = next(line for line in text.splitlines() if line.startswith("• <@U0ALICE>"))
    bob_line = next(line for line in text.splitlines() if line.startswith("• <@U0BOB>"))
    assert text.index(alice_line) < text.index(bob_line)  # two criteria before one
    assert CRITERION_REASONS[Criterion.LED_RESPONSE] in alice_line
    assert CRITERION_REASONS[Criterion.MANUALLY_TRIGGERED] in alice_line
    assert CRITERION_REASONS[Criterion.PRIMARY_ON_CALL] in bob_line
    labels = [e["text"]["text"] for e in buttons(prompt["blocks"]) if e["type"] == "button"]
    assert labels == ["Assign Alice", "Assign Bob", "I'll own it"]


def test_a_false_alarm_still_opens_a_postmortem_and_says_why_it_matters(bot: BotHarness) -> None:
    bot.user("U0ALICE").submit_view(form(false_alarm=True))

    prompt = bot.slack.wait_for("chat.postMessage")[0].params
    assert "Possible false alarm" in block_text(prompt["blocks"])
    assert "monitoring" in block_text(prompt["blocks"])


def test_clicking_a_candidate_makes_them_owner_chosen_by_the_clicker(bot: BotHarness) -> None:
    bot.user("U0CAROL").submit_view(form(on_call=("U0BOB",)))
    candidate = buttons(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])[0]

    bot.user("U0CAROL").click(candidate | {"type": "button"})

    update = bot.slack.wait_for("chat.update")[0].params
    assert "<@U0BOB> (chosen by <@U0CAROL>)" in block_text(update["blocks"])


def refused(response: Any) -> dict[str, str]:
    """The inline errors a submission was answered with ({} when it was taken)."""
    if response.content in (b"", b"null"):
        return {}
    answer = response.json()
    assert answer.get("response_action") == "errors", answer
    return dict(answer["errors"])


def test_a_bot_entered_for_an_owner_criterion_is_refused_on_its_field_by_name(
    bot: BotHarness,
) -> None:
    bot.slack.add_user("U0DEPLOYBOT", is_bot=True, real_name="deploy-bot")

    response = bot.user("U0CAROL").submit_view(
        form(led=("U0ALICE",), triggered=("U0ALICE", "U0DEPLOYBOT"))
    )

    # Only that field: the form stays open with everything else as it was typed.
    assert refused(response) == {
        "manually_triggered": "deploy-bot is a bot: only a person can own a postmortem. Pick "
        "the person who manually triggered the incident to start the response instead, or "
        "remove it."
    }
    assert bot.runtime.postmortems.get(postmortem_id=1) is None
    bot.settle()  # a prompt wrongly planned would be posted by the pump, after the answer
    assert bot.slack.calls("chat.postMessage") == []


def test_a_deactivated_account_or_slackbot_in_any_criterion_is_refused_on_each_field(
    bot: BotHarness,
) -> None:
    bot.slack.add_user("U0GONE", real_name="Gina Gone", deleted=True)
    bot.slack.add_user("U0CIBOT", is_bot=True, real_name="ci-bot")
    bot.slack.add_user("U0DEPLOYBOT", is_bot=True, real_name="deploy-bot")

    response = bot.user("U0CAROL").submit_view(
        form(
            led=("U0GONE",),
            on_call=("U0CIBOT", "U0DEPLOYBOT", "U0GONE", "U0ALICE"),
            triggered=("USLACKBOT",),
        )
    )

    errors = refused(response)
    assert errors["led_response"] == (
        "Gina Gone's account is deactivated: only a person with an active Slack account can "
        "own a postmortem. Pick the person who was initially assigned to the alert and led "
        "the response instead, or remove them."
    )
    assert errors["primary_on_call"].startswith(
        "ci-bot and deploy-bot are bots, and Gina Gone's account is deactivated: only a person "
        "with an active Slack account can own a postmortem. Pick the person who was the "
        "primary on-call"
    )
    assert errors["manually_triggered"].endswith(
        "is a bot: only a person can own a postmortem. "
        "Pick the person who manually triggered the incident to start the response instead, "
        "or remove it."
    )
    assert not any("<@" in text or "U0" in text for text in errors.values())
    assert bot.runtime.postmortems.get(postmortem_id=1) is None
    # Each person asked about once, however many fields name them.
    asked = [call.params["user"] for call in bot.slack.calls("users.info")]
    assert sorted(asked) == ["U0ALICE", "U0CIBOT", "U0DEPLOYBOT", "U0GONE", "USLACKBOT"]


def test_a_bot_is_refused_together_with_the_forms_other_mistakes(bot: BotHarness) -> None:
    bot.slack.add_user("U0DEPLOYBOT", is_bot=True, real_name="deploy-bot")

    errors = refused(bot.user("U0CAROL").submit_view(form(title=" ", led=("U0DEPLOYBOT",))))

    assert set(errors) == {"title", "led_response"}


def test_the_people_entered_are_taken_once_slack_says_they_are_people(bot: BotHarness) -> None:
    bot.slack.add_user("U0BOB", "bob@example.com", real_name="Bob")

    response = bot.user("U0CAROL").submit_view(form(led=("U0BOB",)))

    assert refused(response) == {}
    assert "• <@U0BOB> — " in block_text(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])


@pytest.mark.parametrize("error", ["user_not_found", "ratelimited", "internal_error"])
def test_when_slack_cannot_say_who_was_entered_the_form_is_taken_and_the_button_asks_again(
    bot: BotHarness, error: str
) -> None:
    """As for a pick: losing the person's submission is worse than a candidate who turns
    out to be a bot, which its button then refuses."""
    bot.slack.add_user("U0DEPLOYBOT", is_bot=True, real_name="deploy-bot")
    bot.slack.fail_next("users.info", error)

    assert refused(bot.user("U0CAROL").submit_view(form(triggered=("U0DEPLOYBOT",)))) == {}
    candidate = buttons(bot.slack.wait_for("chat.postMessage")[0].params["blocks"])[0]
    bot.user("U0CAROL").click(candidate | {"type": "button"})

    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert "<@U0DEPLOYBOT> is a bot" in notice["text"]
    assert bot.slack.calls("chat.update") == []


def test_a_slow_slack_does_not_hold_the_form_past_its_deadline(bot: BotHarness) -> None:
    bot.slack.add_user("U0DEPLOYBOT", is_bot=True, real_name="deploy-bot")
    bot.slack.delay("users.info", 4.0)  # longer than Slack waits for the answer (3 s)

    response = bot.user("U0CAROL").submit_view(form(triggered=("U0DEPLOYBOT",)))

    # Taken, as when Slack cannot say: had the form waited for Slack's answer, it would have
    # refused the bot (and Slack would have shown its user a timeout). No timing is asserted.
    assert refused(response) == {}
    assert bot.runtime.postmortems.get(postmortem_id=1) is not None


def test_markup_typed_into_the_title_is_shown_as_text_not_as_a_mention_or_link(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").submit_view(form(title="<!here> cache & <https://x.example|db>"))
    prompt = bot.slack.wait_for("chat.postMessage")[0].params
    claim = next(e for e in buttons(prompt["blocks"]) if e["action_id"] == "owner.claim_self")
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": claim["value"]})
    next_steps = bot.slack.wait_for("chat.postMessage", 2)[1].params

    shown = "&lt;!here&gt; cache &amp; &lt;https://x.example|db&gt;"
    assert prompt["text"] == f"Postmortem: {shown} — this needs exactly one owner."
    assert f"you own the postmortem for *{shown}*" in next_steps["text"]


def test_an_incident_resolved_ten_days_ago_gets_its_prompt_then_one_overdue_notice_only(
    bot: BotHarness,
) -> None:
    ten_days_ago = int((bot.clock() - timedelta(days=10)).timestamp())

    bot.user("U0ALICE").submit_view(form(resolved_epoch=ten_days_ago))
    bot.settle()
    at_open = [call.params for call in bot.slack.calls("chat.postMessage")]
    bot.clock.advance(timedelta(days=2))
    bot.dispatch()

    # Not with the prompt, before anyone could answer it: when the no-owner escalation would
    # come, instead of it (it says nobody owns it yet).
    [prompt] = at_open
    assert prompt["metadata"]["event_payload"]["kind"] == "owner_prompt"
    assert "before this postmortem opened: hold it as soon as you can" in block_text(
        prompt["blocks"]
    )
    posts = [call.params for call in bot.slack.calls("chat.postMessage")]
    kinds = [post["metadata"]["event_payload"]["kind"] for post in posts]
    assert kinds.count("escalate_overdue") == 1
    assert "escalate_no_owner" not in kinds
    [overdue] = [
        p["text"] for p in posts if p["metadata"]["event_payload"]["kind"] == "escalate_overdue"
    ]
    assert "no owner" in overdue.lower()


def test_when_slack_will_not_open_the_form_the_person_is_told_what_to_do(
    bot: BotHarness,
) -> None:
    bot.slack.fail_next("views.open", "expired_trigger_id")

    response = bot.user("U0ALICE").command("start")

    assert response.status_code == 200
    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert notice["user"] == "U0ALICE"
    assert "wouldn't open the form (expired_trigger_id)" in notice["text"]
    assert "`/postmortem start <title>`" in notice["text"]
