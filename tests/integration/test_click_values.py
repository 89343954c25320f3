"""Every click gets an answer: a button that names no usable postmortem (or reminder) is
explained, and a click whose listener fails gets an apology, never silence."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.services.lifecycle import LifecycleService
from bot.services.postmortems import PostmortemService
from tests.conftest import BotHarness

NAMES_NONE = "didn't say which postmortem"
SORRY = "something went wrong on my side and nothing was changed"

# Not a sane id: "²" and "٣" pass str.isdigit (int() refuses the first, reads the second as
# 3); the long ones overflow an id column; the rest are not plain ASCII digits.
NOT_AN_ID = ["²", "٣", "99999999999999999999", "1234567890", "-1", " 1", "1\n", "1e3", ""]

# Each action listener, as a click whose postmortem (or reminder) id is ``value``.
CLICKS: dict[str, Any] = {
    "claim_self": lambda value: {"action_id": "owner.claim_self", "value": value},
    "pick_candidate": lambda value: {
        "action_id": "owner.pick_candidate.0",
        "value": f"{value}|U0BOB",
    },
    "pick_anyone": lambda value: {
        "action_id": "owner.pick_anyone",
        "block_id": f"owner:{value}",
        "selected_user": "U0BOB",
    },
    "mark_held": lambda value: {"action_id": "lifecycle.mark_held", "value": value},
    "snooze": lambda value: {"action_id": "nudge.snooze", "value": value},
}


def only_notice_to(bot: BotHarness, user_id: str) -> dict[str, Any]:
    """The one ephemeral line the bot sent, checked to be for ``user_id`` where they clicked."""
    notice = bot.slack.wait_for("chat.postEphemeral")[0].params
    bot.settle()
    assert len(bot.slack.calls("chat.postEphemeral")) == 1
    assert notice["user"] == user_id
    assert notice["channel"] == "C0INCIDENT"
    return notice


@pytest.mark.parametrize("listener", CLICKS)
@pytest.mark.parametrize("value", NOT_AN_ID)
def test_a_click_naming_no_sane_id_is_explained_to_the_clicker_and_changes_nothing(
    bot: BotHarness, listener: str, value: str
) -> None:
    bot.user("U0ALICE").answer("start Checkout errors")  # postmortem #1, and #3 never exists

    response = bot.user("U0CAROL").click(CLICKS[listener](value))

    assert response.status_code == 200
    notice = only_notice_to(bot, "U0CAROL")
    assert NAMES_NONE in notice["text"]
    postmortem = bot.runtime.postmortems.get(postmortem_id=1)
    assert postmortem is not None
    assert postmortem.owner_id is None
    assert bot.slack.calls("chat.update") == []


@pytest.mark.parametrize(
    ("listener", "service", "method"),
    [
        ("claim_self", PostmortemService, "claim_ownership"),
        ("pick_candidate", PostmortemService, "claim_ownership"),
        ("pick_anyone", PostmortemService, "claim_ownership"),
        ("mark_held", LifecycleService, "mark_meeting_held"),
        ("snooze", LifecycleService, "snooze"),
    ],
)
def test_a_click_whose_work_fails_gets_an_apology_without_the_error(
    bot: BotHarness,
    monkeypatch: pytest.MonkeyPatch,
    listener: str,
    service: type[object],
    method: str,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away at /srv/bot/secret.py line 12")

    monkeypatch.setattr(service, method, broken)

    response = bot.user("U0CAROL").click(CLICKS[listener]("1"))

    assert response.status_code == 200
    assert "database went away" not in response.text
    notice = only_notice_to(bot, "U0CAROL")
    assert SORRY in notice["text"]
    assert "database went away" not in notice["text"]
    assert "Traceback" not in notice["text"]


@pytest.mark.parametrize("listener", ["claim_self", "pick_candidate"])
def test_when_even_the_apology_cannot_be_queued_it_is_posted_directly(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, listener: str
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(PostmortemService, "claim_ownership", broken)
    monkeypatch.setattr(PostmortemService, "tell", broken)

    response = bot.user("U0CAROL").click(CLICKS[listener]("1"))
    acked_at = time.time()

    assert response.status_code == 200
    [call] = bot.slack.wait_for("chat.postEphemeral")
    assert call.at > acked_at  # posted after the ack, never before it
    notice = call.params
    assert notice["user"] == "U0CAROL"
    assert notice["channel"] == "C0INCIDENT"
    assert SORRY in notice["text"]
