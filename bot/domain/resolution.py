"""When an incident can have been resolved: the bounds for a resolution time however it
comes in (a webhook, the start form).

They also keep the date arithmetic (deadlines a week after resolution) in range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# No incident handed to the bot happened before this; anything earlier is a bad timestamp.
EARLIEST_RESOLUTION = datetime(2000, 1, 1, tzinfo=UTC)
# How far ahead of this server's clock another clock (a sender's, a person's) may run.
CLOCK_SKEW = timedelta(minutes=5)


def why_implausible(resolved_at: datetime, now: datetime) -> str | None:
    """Why ``resolved_at`` cannot be when an incident was resolved (fit to show a person),
    or None when it can be."""
    if resolved_at < EARLIEST_RESOLUTION:
        return "That's before 2000: pick when this incident was resolved."
    if resolved_at > now + CLOCK_SKEW:
        return "The resolution time can't be in the future."
    return None
