"""The one settings class, read from the environment by a factory (never at import time)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.messages import SLACK_CHANNEL_ID


class MissingSettingError(Exception):
    """A required setting is absent; the message names the variable."""


class DatabaseUnusableError(Exception):
    """DATABASE_URL names a database that cannot be reached or created; the message says so."""


class MigrationsNotFoundError(Exception):
    """The migrations/ folder is not where the bot looks; the message says how to point at it."""


class Settings(BaseSettings):
    """Everything the bot reads from its environment (names are the external contract)."""

    # A `.env` file in the working directory is read too (environment variables win).
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///postmortem.db"
    pagerduty_webhook_secret: SecretStr | None = None
    pagerduty_api_token: SecretStr | None = None
    pagerduty_api_url: str = "https://api.pagerduty.com"
    incident_webhook_secret: SecretStr | None = None
    # Bearer token(s) of the endpoints for tools that cannot sign (Opsgenie, Grafana OnCall);
    # unset, INCIDENT_WEBHOOK_SECRET serves (then one leaked header can also sign).
    incident_webhook_token: SecretStr | None = None
    host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on all interfaces
    port: int = Field(default=3000, ge=1, le=65535)
    default_channel: str | None = None
    postmortem_policy_file: str | None = None
    # How often the dispatcher looks for due rows when nothing wakes it (seconds).
    dispatch_interval_seconds: float = Field(default=15.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("default_channel", mode="before")
    @classmethod
    def _channel_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip() or None
        if isinstance(value, str) and not re.fullmatch(SLACK_CHANNEL_ID, value):
            raise ValueError(
                f"{value[:40]!r} is not a Slack channel id: give the id, like C0123ABCD, not "
                "the name (the channel's details in Slack show its id at the bottom)"
            )
        return value

    @field_validator("slack_api_url", "pagerduty_api_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        # Checked at start-up: a typo here would otherwise only show as every call failing.
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
            raise ValueError(f"{value[:60]!r} is not an http(s):// address")
        return value.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def require_slack_credentials(self) -> tuple[str, str]:
        """The bot token and signing secret, or a MissingSettingError naming what is absent."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.slack_bot_token),
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
            )
            if value is None or not value.get_secret_value().strip()
        ]
        if missing:
            raise MissingSettingError(
                f"{' and '.join(missing)} must be set: create the Slack app from "
                "slack-app-manifest.yaml and copy its credentials (see README)."
            )
        assert self.slack_bot_token is not None
        assert self.slack_signing_secret is not None
        return self.slack_bot_token.get_secret_value(), self.slack_signing_secret.get_secret_value()

    def socket_mode_token(self) -> str | None:
        """The app-level token when Socket Mode is wanted; a bot token here is a mix-up."""
        if self.slack_app_token is None or not self.slack_app_token.get_secret_value().strip():
            return None
        token = self.slack_app_token.get_secret_value().strip()
        if not token.startswith("xapp-"):
            raise MissingSettingError(
                "SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write; "
                "create one under Basic Information → App-Level Tokens, or unset it to serve "
                "over HTTP only."
            )
        return token


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; overrides win (used by tests and the demo)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise MissingSettingError(f"invalid settings: {problems}") from error
