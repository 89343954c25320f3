"""Bolt listeners by kind; each module has an explicit ``register(app)``."""

from slack_bolt import App

from bot.slack.listeners import actions, commands, documents, lifecycle, views


def register_all(app: App) -> None:
    commands.register(app)
    actions.register(app)
    views.register(app)
    lifecycle.register(app)
    documents.register(app)
