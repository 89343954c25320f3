"""``postmortem-bot serve | migrate | demo``."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.config import MissingSettingError, Settings, load_settings
from bot.policy_file import PolicyFileError, load_policy


def _serve(settings: Settings, *, scheduler: bool, host: str | None, port: int | None) -> int:
    settings.require_slack_credentials()  # before any slow import: fail fast and plainly
    load_policy(settings.postmortem_policy_file)

    import uvicorn

    from bot.bootstrap import build_runtime
    from bot.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    runtime = build_runtime(settings)
    if scheduler:
        runtime.start_background()
    socket_mode = None
    if settings.slack_app_token is not None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        socket_mode = SocketModeHandler(
            runtime.bolt_app, settings.slack_app_token.get_secret_value()
        )
        socket_mode.connect()  # type: ignore[no-untyped-call]
    try:
        uvicorn.run(
            runtime.web_app,
            host=host or settings.host,
            port=port if port is not None else settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,
        )
    finally:
        if socket_mode is not None:
            socket_mode.close()  # type: ignore[no-untyped-call]
        runtime.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmortem-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then serve HTTP (and Socket Mode)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not send nudges here")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    commands.add_parser("migrate", help="alembic upgrade head on DATABASE_URL")
    commands.add_parser("demo", help="the whole flow offline, against a local Slack stand-in")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
        if args.command == "migrate":
            from bot.migrate import upgrade_to_head

            upgrade_to_head(settings.database_url)
            print(f"database at head: {settings.database_url.split('@')[-1]}")
            return 0
        if args.command == "demo":
            logging.getLogger().setLevel(logging.WARNING)  # the transcript is the output
            from bot.demo import run_demo

            return run_demo()
        return _serve(settings, scheduler=not args.no_scheduler, host=args.host, port=args.port)
    except (MissingSettingError, PolicyFileError) as error:
        print(f"postmortem-bot: {error}", file=sys.stderr)
        return 2
