"""A dispatcher in its own process, for crash and concurrency tests; plus helpers they share.

    python -m tests.support.dispatch_worker --database-url URL --slack-url URL \
        --worker w1 --now 2026-11-24T14:00:00+00:00 [--lease-seconds 120]

drains every due outbox row at ``--now`` and prints a JSON report. With
``DISPATCH_WORKER_DIE_AFTER_DELIVER=1`` it SIGKILLs itself right after the first
message reaches Slack and before the row is recorded as sent: the crash the lease exists for.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bot.devtools.slack_standin import SlackStandIn
from bot.domain.policy import Policy, WorkingHours
from bot.persistence.db import create_db_engine, create_session_factory
from bot.persistence.uow import UnitOfWork
from bot.services.dispatch import Dispatcher, Messenger, Outgoing
from bot.slack.messenger import SlackMessenger

DIE_AFTER_DELIVER = "DISPATCH_WORKER_DIE_AFTER_DELIVER"
ALWAYS = Policy(working_hours=WorkingHours(always=True))
ROOT = Path(__file__).resolve().parents[2]


class PassThrough:
    """The real messenger, for a test to add one thing around ``deliver``."""

    def __init__(self, inner: Messenger) -> None:
        self._inner = inner

    def deliver(self, message: Outgoing) -> str | None:
        return self._inner.deliver(message)

    def find_delivered(
        self, *, channel_id: str, outbox_id: int, since: datetime, also_in: str | None = None
    ) -> str | None:
        return self._inner.find_delivered(
            channel_id=channel_id, outbox_id=outbox_id, since=since, also_in=also_in
        )

    def user_timezone(self, user_id: str) -> str | None:
        return self._inner.user_timezone(user_id)


class DieAfterDeliver(PassThrough):
    """Passes everything to the real messenger, then dies the hard way after a delivery."""

    def deliver(self, message: Outgoing) -> str | None:
        ts = self._inner.deliver(message)
        os.kill(os.getpid(), signal.SIGKILL)
        return ts


def build_dispatcher(
    database_url: str, slack_url: str, worker: str, lease: timedelta, batch_size: int = 50
) -> Dispatcher:
    engine = create_db_engine(database_url)
    sessions = create_session_factory(engine)
    messenger: Messenger = SlackMessenger(WebClient(base_url=slack_url, token="xoxb-worker"))
    if os.environ.get(DIE_AFTER_DELIVER) == "1":
        messenger = DieAfterDeliver(messenger)
    return Dispatcher(
        uow_factory=lambda: UnitOfWork(sessions),
        messenger=messenger,
        policy=ALWAYS,
        worker_id=worker,
        lease=lease,
        batch_size=batch_size,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--slack-url", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--now", required=True, type=datetime.fromisoformat)
    parser.add_argument("--lease-seconds", type=float, default=120)
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args(argv)
    dispatcher = build_dispatcher(
        args.database_url,
        args.slack_url,
        args.worker,
        timedelta(seconds=args.lease_seconds),
        args.batch_size,
    )
    report = dispatcher.drain(now=args.now)
    print(json.dumps({"sent": report.sent, "claimed": report.claimed, "errors": report.errors}))
    return 0


def spawn(
    database_url: str, slack_url: str, worker: str, now: datetime, **env: str
) -> subprocess.Popen[str]:
    """Start a worker process (the caller waits for it)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.dispatch_worker",
            "--database-url",
            database_url,
            "--slack-url",
            slack_url,
            "--worker",
            worker,
            "--now",
            now.isoformat(),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outbox_ids_posted(calls: Iterable[Any]) -> list[int]:
    """The outbox id named in the metadata of each chat.postMessage, in order."""
    return [int(c.params["metadata"]["event_payload"]["outbox_id"]) for c in calls]


if __name__ == "__main__":
    sys.exit(main())


def posted_by_another_replica(
    slack: SlackStandIn, channel: str, text: str, *, outbox_id: int, kind: str
) -> str:
    """A message posted as another dispatcher posts it (with the outbox row's metadata), not
    recorded by anyone yet; its ts."""
    return str(
        WebClient(base_url=slack.url, token="xoxb-t").chat_postMessage(
            channel=channel,
            text=text,
            metadata={
                "event_type": "postmortem_bot",
                "event_payload": {"outbox_id": outbox_id, "kind": kind},
            },
        )["ts"]
    )
