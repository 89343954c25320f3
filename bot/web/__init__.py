"""The HTTP surface: Starlette routes for Slack, webhooks and health."""
