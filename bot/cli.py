"""postmortem-bot: serve the bot, migrate its database, or run the offline demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bot.config import (
    DatabaseUnusableError,
    MigrationsNotFoundError,
    MissingSettingError,
    Settings,
    load_settings,
)
from bot.policy_file import PolicyFileError, load_policy

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler


class SocketModeRefusedError(Exception):
    """Slack would not open a Socket Mode connection; the message says what to fix."""


class PortUnavailableError(Exception):
    """``serve`` cannot listen where it was told to; the message says where and why."""


def _check_can_listen(host: str, port: int) -> None:
    """Fail before migrating and starting anything when the address is taken (uvicorn would
    log a dozen lines, then exit 3). SO_REUSEADDR as uvicorn sets it, so a port with only
    closed connections in TIME_WAIT is not "taken"."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortUnavailableError(
                f"cannot listen on {host}:{port}: {error.strerror or error}; set PORT (or "
                "HOST) to a free address, or stop what is using it"
            ) from None


def _serve(settings: Settings, *, scheduler: bool, host: str | None, port: int | None) -> int:
    settings.require_slack_credentials()  # before any slow import: fail fast and plainly
    app_token = settings.socket_mode_token()
    load_policy(settings.postmortem_policy_file)
    listen_host = host or settings.host
    listen_port = port if port is not None else settings.port
    _check_can_listen(listen_host, listen_port)

    import uvicorn

    from bot.bootstrap import build_runtime
    from bot.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    runtime = build_runtime(settings)
    try:
        if app_token is not None:
            runtime.socket_mode = _connect_socket_mode(runtime.bolt_app, app_token)
        # The web app's lifespan starts the pump and the scheduler once uvicorn serves, and
        # stops them (and Socket Mode) once it has stopped serving, signal or not.
        runtime.background = scheduler
        with _sigterm_like_ctrl_c():
            uvicorn.run(
                runtime.web_app,
                host=listen_host,
                port=listen_port,
                log_level=settings.log_level.lower(),
                access_log=False,
            )
    finally:
        runtime.stop()  # already done by the lifespan if uvicorn got as far as running it
    return 0


@contextlib.contextmanager
def _sigterm_like_ctrl_c() -> Iterator[None]:
    """Let SIGTERM (a deploy, ``docker stop``) end ``serve`` the way Ctrl+C does: exit 0.

    uvicorn shuts down gracefully on either signal, then raises it again for the handler
    that was there before. For SIGINT that raises KeyboardInterrupt, which ``uvicorn.run``
    swallows; for SIGTERM the default action would kill the process (status -15) on the
    spot. A second signal while shutting down is uvicorn's to handle, as ever.
    """
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _connect_socket_mode(bolt_app: App, app_token: str) -> SocketModeHandler:
    """Open the Socket Mode connection (it reconnects by itself from then on)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    handler = SocketModeHandler(bolt_app, app_token)
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except SlackApiError as error:
        code = error.response.get("error", "unknown_error")
        raise SocketModeRefusedError(
            f"Slack refused SLACK_APP_TOKEN for Socket Mode ({code}): check the token has "
            "connections:write and Socket Mode is on in the app's settings."
        ) from error
    except OSError as error:
        raise SocketModeRefusedError(
            f"could not open a Socket Mode connection to Slack ({error}); check the network "
            "and SLACK_API_URL."
        ) from error
    return handler


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmortem-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then serve HTTP (and Socket Mode)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not send nudges here")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=_port, default=None)
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
        # "Running job … executed successfully" every few seconds says nothing an operator
        # needs; failures are still logged as warnings and errors.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
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
    except (
        MissingSettingError,
        PolicyFileError,
        SocketModeRefusedError,
        PortUnavailableError,
        DatabaseUnusableError,
        MigrationsNotFoundError,
    ) as error:
        print(f"postmortem-bot: {error}", file=sys.stderr)
        return 2
