"""The one place that wires settings, database, services, Slack, HTTP and the scheduler."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio.to_thread
from apscheduler.schedulers.background import BackgroundScheduler
from pydantic import SecretStr
from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.routing import Route

from bot.config import Settings
from bot.domain.policy import Policy
from bot.pagerduty.rest import PagerDutyRest, build_client
from bot.pagerduty.slack_directory import SlackEmailDirectory
from bot.persistence.db import create_db_engine, create_session_factory
from bot.persistence.uow import UnitOfWork
from bot.persistence.write_health import WriteHealth
from bot.policy_file import load_policy
from bot.scheduling.jobs import STOP_TIMEOUT_SECONDS, GatedMessenger, OutboxPump, build_scheduler
from bot.services.clock import Clock, system_clock
from bot.services.dispatch import Dispatcher
from bot.services.documents import DocumentService
from bot.services.incidents import IncidentService
from bot.services.lifecycle import LifecycleService
from bot.services.postmortems import PostmortemService
from bot.slack.app import build_bolt_app
from bot.slack.blocks import slack_date
from bot.slack.keepalive import KeepAliveWebClient
from bot.slack.messenger import SlackMessenger
from bot.slack.people import FORM_LOOKUP_SECONDS, PeopleCheck
from bot.web.app import build_web_app
from bot.webhooks.routes import webhook_routes
from bot.webhooks.signature import split_secrets

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)

# The longest a start waits for the owner-prompt pump to catch up: well inside Slack's 3 s.
PROMPT_WAIT_SECONDS = 0.5

# A users.info answer later than this is of no use to a form (Slack waits 3 s for it).
PEOPLE_LOOKUP_TIMEOUT_SECONDS = FORM_LOOKUP_SECONDS + 0.5


@dataclass
class Runtime:
    settings: Settings
    policy: Policy
    engine: Engine
    postmortems: PostmortemService
    lifecycle: LifecycleService
    documents: DocumentService
    dispatcher: Dispatcher
    client: WebClient
    bolt_app: App
    web_app: Starlette
    scheduler: BackgroundScheduler
    pump: OutboxPump
    messenger: GatedMessenger
    incidents: IncidentService
    people: PeopleCheck
    # Set by `serve`: whether serving starts the pump and the scheduler (not with
    # --no-scheduler), and the Socket Mode connection to close when it stops.
    background: bool = False
    socket_mode: SocketModeHandler | None = None
    _stopped: bool = field(default=False, init=False, repr=False)

    def start_background(self) -> None:
        self.pump.start()
        self.scheduler.start()

    @contextlib.asynccontextmanager
    async def lifespan(self, _: Starlette) -> AsyncIterator[None]:
        """The web app's lifespan: uvicorn runs its end once HTTP has stopped and the requests
        in flight are answered, also when SIGTERM or SIGINT ends serving. Code after
        ``uvicorn.run`` is not enough: on SIGTERM uvicorn raises the signal again as it
        returns, and the default action kills the process there."""
        if self.background:
            self.start_background()
        try:
            yield
        finally:
            # Off the event loop: stopping waits for messages on their way to Slack.
            await anyio.to_thread.run_sync(self.stop)

    def stop(self) -> None:
        """Stop the background work without losing track of a message; safe to call twice.

        Bounded: after the first steps no Slack call starts, so this waits only for the
        calls under way (the client's 10 s timeout) and for recording them.
        """
        if self._stopped:
            return
        self._stopped = True
        if self.socket_mode is not None:
            self.socket_mode.close()  # type: ignore[no-untyped-call]
        # No new drain, from the pump or the periodic job; then no new Slack call in the
        # drains under way, which record what reached Slack and release their other rows.
        self.pump.stop()
        if self.scheduler.running:
            self.scheduler.pause()
        self.messenger.close()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if not self.pump.join(STOP_TIMEOUT_SECONDS):
            log.warning(
                "outbox pump still busy after %.0f s; its rows go out when their lease expires",
                STOP_TIMEOUT_SECONDS,
            )
        # HTTP has stopped (uvicorn runs this after the requests in flight): no webhook
        # needs a look-up any more, and a queued one would only delay the exit.
        self.incidents.close()
        self.people.close()
        self.engine.dispose()
        log.info("postmortem-bot stopped")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def incident_service(
    settings: Settings,
    postmortems: PostmortemService,
    uow_factory: Callable[[], UnitOfWork],
    client: WebClient,
    clock: Clock,
) -> IncidentService:
    """What the incident webhooks call, with its look-up adapters."""
    token = _secret(settings.pagerduty_api_token)
    return IncidentService(
        uow_factory=uow_factory,
        postmortems=postmortems,
        clock=clock,
        default_channel=settings.default_channel,
        slack=SlackEmailDirectory(client),
        pagerduty=PagerDutyRest(build_client(token, settings.pagerduty_api_url)) if token else None,
    )


def incident_webhook_routes(settings: Settings, incidents: IncidentService) -> list[Route]:
    """``/webhooks/pagerduty``, ``/webhooks/incident`` and the other tools' routes."""
    return webhook_routes(
        incidents=incidents,
        pagerduty_secrets=split_secrets(_secret(settings.pagerduty_webhook_secret)),
        incident_secrets=split_secrets(_secret(settings.incident_webhook_secret)),
        tool_tokens=split_secrets(
            _secret(settings.incident_webhook_token) or _secret(settings.incident_webhook_secret)
        ),
    )


def build_runtime(settings: Settings, *, clock: Clock = system_clock) -> Runtime:
    """Build everything; start nothing (call ``start_background`` for the pump and scheduler)."""
    token, signing_secret = settings.require_slack_credentials()
    policy = load_policy(settings.postmortem_policy_file)
    engine = create_db_engine(settings.database_url)
    session_factory = create_session_factory(engine)

    pump_holder: list[OutboxPump] = []
    runtime_holder: list[Runtime] = []

    def lifespan(app: Starlette) -> AbstractAsyncContextManager[None]:
        return runtime_holder[0].lifespan(app)  # built below, before anything serves

    def wake_pump(due_at: object) -> None:
        for pump in pump_holder:
            pump.wake(due_at)  # type: ignore[arg-type]

    async def wait_for_pump() -> None:
        # On the event loop, so a held-back start never holds a listener thread.
        for pump in pump_holder:
            await pump.wait_caught_up(PROMPT_WAIT_SECONDS)

    def uow_factory() -> UnitOfWork:
        return UnitOfWork(session_factory, on_outbox_due=wake_pump)

    client = KeepAliveWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        # No automatic retries: a retried chat.postMessage could post twice. The outbox
        # retries instead, after checking the channel for the message it may have sent.
        retry_handlers=[],
    )
    postmortems = PostmortemService(uow_factory=uow_factory, policy=policy, clock=clock)
    lifecycle = LifecycleService(
        uow_factory=uow_factory, policy=policy, clock=clock, write_moment=slack_date
    )
    documents = DocumentService(uow_factory=uow_factory, policy=policy, clock=clock)
    messenger = GatedMessenger(SlackMessenger(client))
    dispatcher = Dispatcher(
        uow_factory=uow_factory,
        messenger=messenger,
        policy=policy,
        worker_id=worker_name(),
    )
    pump = OutboxPump(dispatcher, clock, idle_seconds=settings.dispatch_interval_seconds)
    pump_holder.append(pump)
    # Its own client, which gives up soon after the form's deadline: a look-up past it
    # would otherwise hold one of the check's few threads for the 10 s above, and with a
    # slow Slack the next forms' look-ups would queue behind them and all be waved through.
    people = PeopleCheck(
        KeepAliveWebClient(
            token=token,
            base_url=settings.slack_api_url,
            timeout=PEOPLE_LOOKUP_TIMEOUT_SECONDS,
            retry_handlers=[],
        )
    )
    bolt_app = build_bolt_app(
        client=client,
        signing_secret=signing_secret,
        postmortems=postmortems,
        lifecycle=lifecycle,
        documents=documents,
        people=people,
    )

    write_health = WriteHealth()
    write_health.watch(engine)

    def database_ready() -> bool:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception as error:  # any driver error means "not ready", which is the answer
            # One line: orchestrators probe every few seconds, and a stack trace each time
            # buried everything else in the log during an outage.
            cause = str(getattr(error, "orig", None) or error).strip().splitlines() or [""]
            log.warning("readiness: database unreachable (%s: %s)", type(error).__name__, cause[0])
            return False

    incidents = incident_service(settings, postmortems, uow_factory, client, clock)
    web_app = build_web_app(
        bolt_app=bolt_app,
        signing_secret=signing_secret,
        database_ready=database_ready,
        write_failure=write_health.failing,
        extra_routes=incident_webhook_routes(settings, incidents),
        before_start=wait_for_pump,
        lifespan=lifespan,
    )
    scheduler = build_scheduler(dispatcher, clock, settings.dispatch_interval_seconds)
    runtime = Runtime(
        incidents=incidents,
        settings=settings,
        policy=policy,
        engine=engine,
        postmortems=postmortems,
        lifecycle=lifecycle,
        documents=documents,
        dispatcher=dispatcher,
        client=client,
        bolt_app=bolt_app,
        web_app=web_app,
        scheduler=scheduler,
        pump=pump,
        messenger=messenger,
        people=people,
    )
    runtime_holder.append(runtime)
    return runtime
