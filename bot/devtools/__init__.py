"""Tools for running the bot without a real Slack: a local Web API stand-in (tests, demo, bench)."""
