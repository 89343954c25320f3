"""Pure domain rules: no Slack, no SQLAlchemy, no scheduler, no clock (``now`` is passed in)."""
