"""`/postmortem start` → exactly one owner, through the real HTTP app and the Slack stand-in."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.persistence.tables import OutboxRow, PostmortemRow
from tests.conftest import BotHarness
from tests.support.slack_user import block_text, buttons


def owner_prompt(bot: BotHarness, count: int = 1) -> dict[str, Any]:
    posts = bot.slack.wait_for("chat.postMessage", count)
    return posts[count - 1].params


def rows(bot: BotHarness, table: Any) -> list[Any]:
    with bot.runtime.engine.connect() as connection:
        return list(connection.execute(select(table)))


def pick_from_picker(bot: BotHarness, chosen: str, *, by: str = "U0ALICE") -> None:
    bot.user(by).click(
        {"action_id": "owner.pick_anyone", "block_id": "owner:1", "selected_user": chosen}
    )


def test_start_with_title_opens_a_postmortem_and_asks_the_channel_for_one_owner(
    bot: BotHarness,
) -> None:
    answer = bot.user("U0ALICE").answer("start Checkout errors after deploy")

    assert "Opened postmortem #1" in answer
    prompt = owner_prompt(bot)
    assert prompt["channel"] == "C0INCIDENT"
    text = block_text(prompt["blocks"])
    assert "Checkout errors after deploy" in text
    assert "exactly one owner" in text
    assert "bystander effect" in text
    assert "not blame" in text
    assert "blameless" in text
    elements = buttons(prompt["blocks"])
    assert [e.get("action_id") for e in elements] == ["owner.claim_self", "owner.pick_anyone"]
    assert prompt["metadata"]["event_type"] == "postmortem_bot_message"


def test_first_click_wins_and_the_prompt_shows_the_owner_and_who_picked_them(
    bot: BotHarness,
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    prompt = owner_prompt(bot)
    claim = next(e for e in buttons(prompt["blocks"]) if e["action_id"] == "owner.claim_self")

    response = bot.user("U0BOB").click(
        {"action_id": "owner.claim_self", "value": claim["value"], "type": "button"}
    )

    assert response.status_code == 200
    update = bot.slack.wait_for("chat.update")[0].params
    assert update["ts"] == bot.slack.messages("C0INCIDENT")[0]["ts"]
    assert "Owner:* <@U0BOB>" in block_text(update["blocks"])
    next_steps = owner_prompt(bot, 2)
    assert "<@U0BOB>, you own the postmortem" in next_steps["text"]
    assert "within 7 days of resolution" in next_steps["text"]


def test_second_click_is_told_who_already_owns_it(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    value = buttons(owner_prompt(bot)["blocks"])[0]["value"]
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": value})

    bot.user("U0CAROL").click({"action_id": "owner.claim_self", "value": value})

    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert notice["user"] == "U0CAROL"
    assert notice["text"] == (
        "This postmortem is already owned by <@U0BOB>. To take it on, ask them to hand it to "
        "you: `/postmortem owner #1 @your-name`."
    )
    [stored] = rows(bot, PostmortemRow)
    assert stored.owner_id == "U0BOB"


def test_picking_someone_else_from_the_user_picker_makes_them_owner(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    owner_prompt(bot)

    pick_from_picker(bot, "U0DAVE")

    update = bot.slack.wait_for("chat.update")[0].params
    assert "<@U0DAVE> (chosen by <@U0ALICE>)" in block_text(update["blocks"])


@pytest.mark.parametrize(
    ("account", "reason"),
    [({"is_bot": True}, "<@U0PICKED> is a bot"), ({"deleted": True}, "is deactivated")],
)
def test_picking_a_bot_or_a_deactivated_account_is_refused_and_nobody_owns_it_yet(
    bot: BotHarness, account: dict[str, Any], reason: str
) -> None:
    bot.slack.add_user("U0PICKED", **account)
    bot.user("U0ALICE").answer("start Checkout errors")
    owner_prompt(bot)

    pick_from_picker(bot, "U0PICKED")

    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert notice["user"] == "U0ALICE"
    assert reason in notice["text"]
    assert "pick someone else" in notice["text"]
    assert bot.slack.calls("chat.update") == []
    [stored] = rows(bot, PostmortemRow)
    assert stored.owner_id is None


def test_a_pick_stands_when_slack_cannot_say_who_it_is(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    owner_prompt(bot)
    bot.slack.fail_next("users.info", "internal_error")

    pick_from_picker(bot, "U0DAVE")

    update = bot.slack.wait_for("chat.update")[0].params
    assert "<@U0DAVE> (chosen by <@U0ALICE>)" in block_text(update["blocks"])


def test_a_title_typed_with_at_channel_never_pings_the_channel_again(bot: BotHarness) -> None:
    # Slack sends "@channel" typed in a command as <!channel>; the bot repeats the title in
    # the prompt and in every no-owner nudge, which must not page the channel each time.
    bot.user("U0ALICE").answer("start <!channel> checkout down")
    prompt = owner_prompt(bot)
    bot.settle()
    bot.clock.advance(timedelta(hours=2))
    bot.dispatch()

    posts = bot.slack.calls("chat.postMessage")
    assert len(posts) >= 2  # the prompt and the first no-owner nudge
    for post in posts:
        assert not re.search(r"<!(channel|here|everyone)", json.dumps(post.params))
    assert "Postmortem: @channel checkout down" in block_text(prompt["blocks"])
    assert "*@channel checkout down* (#1) still has no owner" in posts[-1].params["text"]


def test_naming_an_owner_by_command_works_when_the_prompt_never_reached_the_channel(
    bot: BotHarness,
) -> None:
    # A private channel the bot was not invited to: the prompt is refused for good.
    bot.slack.fail_next("chat.postMessage", "not_in_channel")
    alice = bot.user("U0ALICE")
    alice.answer("start Checkout errors")
    bot.settle()

    alice.command("owner <@U0BOB|bob>")

    answer = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert answer["user"] == "U0ALICE"
    assert answer["text"] == "<@U0BOB> now owns postmortem #1; I told the channel."
    [stored] = rows(bot, PostmortemRow)
    assert stored.owner_id == "U0BOB"
    assert stored.owner_assigned_by == "U0ALICE"
    # The refused prompt, the direct message telling Alice why, then the owner's next steps.
    next_steps = bot.slack.wait_for("chat.postMessage", 3)[2].params
    assert "<@U0BOB>, you own the postmortem" in next_steps["text"]


def test_naming_an_owner_by_command_updates_the_prompt_like_a_pick(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    owner_prompt(bot)
    bot.settle()

    bot.user("U0CAROL").command("owner <@U0DAVE|dave>")

    update = bot.slack.wait_for("chat.update")[0].params
    assert "<@U0DAVE> (chosen by <@U0CAROL>)" in block_text(update["blocks"])
    bot.slack.wait_for("chat.postEphemeral")  # Carol is told Dave owns it
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": "1"})
    notice = bot.slack.wait_for("chat.postEphemeral", 2)[1].params
    assert "already owned by <@U0DAVE>" in notice["text"]


def test_a_second_start_in_the_channel_points_to_the_open_postmortem(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    bot.settle()

    answer = bot.user("U0BOB").answer("start Checkout errors again")

    assert "already has an open postmortem" in answer
    assert "#1 Checkout errors" in answer
    assert "archives/C0INCIDENT/p" in answer
    assert len(rows(bot, PostmortemRow)) == 1


def test_clicking_for_a_postmortem_that_does_not_exist_explains_instead_of_failing(
    bot: BotHarness,
) -> None:
    response = bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": "999"})

    assert response.status_code == 200
    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    assert "no longer exists" in notice["text"]


def test_opening_writes_the_no_owner_nudges_in_the_same_transaction(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")

    kinds = {row.kind for row in rows(bot, OutboxRow)}

    assert {"owner_prompt", "nudge_no_owner", "escalate_no_owner"} <= kinds


def test_every_change_is_audited_with_who_and_when(bot: BotHarness) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")
    value = buttons(owner_prompt(bot)["blocks"])[0]["value"]
    bot.user("U0BOB").click({"action_id": "owner.claim_self", "value": value})
    bot.slack.wait_for("chat.update")
    bot.user("U0BOB").command("owner <@U0CAROL|carol>")
    bot.slack.wait_for("chat.postEphemeral")  # answered after the hand-over committed

    trail = bot.runtime.postmortems.audit_trail(postmortem_id=1)

    assert [(who, what) for _, who, what in trail] == [
        ("U0ALICE", "opened"),
        ("U0BOB", "owner_assigned"),
        ("U0BOB", "owner_handed_over"),
    ]
    assert all(when == bot.clock() for when, _, _ in trail)
