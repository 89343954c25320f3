"""Adapters to PagerDuty's REST API and Slack's user directory, for the incident service."""
