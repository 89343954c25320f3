"""How a message writes a moment (pure).

Where Slack formats a message (mrkdwn), a moment is written as a Slack date, which each
reader sees in their own time zone. The domain and the services do not know Slack, so
whatever writes such a message is handed that writer (``bot.slack.blocks.slack_date``).
Where Slack shows text as it is (a form's inline error), nobody's own zone can be shown:
there a moment is written in the workspace's zone, named.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

WriteMoment = Callable[[datetime], str]


def in_zone(zone_name: str) -> WriteMoment:
    """Moments as plain text in ``zone_name``, naming it: ``Tue 01 Dec 2026 15:00 in
    Europe/Berlin``."""
    zone = ZoneInfo(zone_name)

    def written(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%a %d %b %Y %H:%M} in {zone_name}"

    return written
