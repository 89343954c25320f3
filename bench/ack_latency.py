"""Ack latency and throughput: the bot against an ack-only Bolt app, in one run, as ratios.

    python -m bench ack-latency                      # SQLite in a temp dir
    python -m bench ack-latency --database-url "$(cat /tmp/pg-url)"   # a fresh PG database
    python -m bench ack-latency --db sqlite --db postgresql --database-url "$(cat /tmp/pg-url)"

Servers run pinned to core 0; this load generator and the Slack stand-in to core 1. Every
subprocess runs in its own session and is killed (SIGINT, then SIGKILL) in ``finally``.
Nothing here asserts: it prints figures (a Markdown table, optionally JSON) to record in
bench/README.md. See that file for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.loadgen import HOST, Result, Workload, closed_loop, open_loop
from bot.devtools.scratch_db import scratch_database

SECRET = "bench-signing-secret"
SERVER_CORE = 0
CLIENT_CORE = 1
DRAIN_LIMIT_S = 60.0
FLOOR = "floor, hand-written"
# The floor alone, then with each library the bot uses put back on the start's path, then all.
FLOOR_VARIANTS: tuple[tuple[str, ...], ...] = (
    (),
    ("bolt",),
    ("sqlalchemy",),
    ("slack_sdk",),
    ("bolt", "sqlalchemy", "slack_sdk"),
)
ROOT = Path(__file__).resolve().parent.parent


# -- processes ---------------------------------------------------------------------------
def _cores() -> set[int]:
    return set(os.sched_getaffinity(0))


def _pin_to(core: int) -> None:
    if core < (os.cpu_count() or 1):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {core})


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def core_busy_seconds(core: int) -> float:
    """Non-idle CPU time of one core so far, all processes (from /proc/stat)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{core} "):
            ticks = [int(v) for v in line.split()[1:]]
            idle = ticks[3] + ticks[4]  # idle + iowait
            return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    return 0.0


def wait_idle(pid: int, limit: float = DRAIN_LIMIT_S) -> float:
    """Wait (bounded) until the server uses < 20% of a core; return seconds waited.

    After an open-loop phase the server may still be working off requests that queued up;
    the next phase must not pay for them.
    """
    began = time.monotonic()
    while time.monotonic() - began < limit:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.1:
            break
    return time.monotonic() - began


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def process(
    argv: list[str], *, env: dict[str, str], core: int, log: Path, **popen: Any
) -> Iterator[subprocess.Popen[str]]:
    """A child pinned to ``core`` in its own session; SIGINT then SIGKILL on the way out."""
    with log.open("w") as log_file:
        child = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stderr=log_file,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: _pin_to(core),
            **popen,
        )
        try:
            yield child
        finally:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGINT)
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, signal.SIGKILL)
                    child.wait(timeout=5)


def wait_healthy(port: int, child: subprocess.Popen[str], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"server exited ({child.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not healthy after {timeout}s; see {log}")


# -- the Slack stand-in in its own process -------------------------------------------------
def standin_child() -> int:
    """Serve a SlackStandIn; print its URL; on ``dump`` print the chat.postMessage record."""
    from bot.devtools.slack_standin import SlackStandIn

    with SlackStandIn() as slack:
        print(slack.url, flush=True)
        for line in sys.stdin:
            if line.strip() != "dump":
                break
            posts = []
            for call in slack.calls("chat.postMessage"):
                metadata = call.params.get("metadata")
                payload = metadata.get("event_payload", {}) if isinstance(metadata, dict) else {}
                posts.append([call.at, call.params.get("channel"), payload.get("outbox_id")])
            counts: dict[str, int] = {}
            for call in slack.calls():
                counts[call.method] = counts.get(call.method, 0) + 1
            print(json.dumps({"posts": posts, "counts": counts}), flush=True)
    return 0


@dataclass
class StandIn:
    child: subprocess.Popen[str]
    url: str

    def dump(self) -> dict[str, Any]:
        assert self.child.stdin is not None
        assert self.child.stdout is not None
        self.child.stdin.write("dump\n")
        self.child.stdin.flush()
        data: dict[str, Any] = json.loads(self.child.stdout.readline())
        return data


@contextlib.contextmanager
def standin(workdir: Path) -> Iterator[StandIn]:
    argv = [sys.executable, "-m", "bench.ack_latency", "--standin-child"]
    env = dict(os.environ)
    log = workdir / "standin.log"
    pipes: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
    with process(argv, env=env, core=CLIENT_CORE, log=log, **pipes) as child:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"stand-in did not start; see {log}")
        try:
            yield StandIn(child, url)
        finally:
            if child.stdin is not None:
                with contextlib.suppress(OSError):
                    child.stdin.close()


# -- databases ---------------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(kind: str, pg_url: str | None, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if not pg_url:
        raise SystemExit("--database-url (a PostgreSQL URL) is needed for --db postgresql")
    with scratch_database(pg_url, "bench") as database_url:
        yield database_url


class Outbox:
    """Read-only look at the bot's outbox (plain engine: no BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def pending_prompts(self) -> int:
        with self.engine.connect() as c:
            query = "SELECT count(*) FROM outbox WHERE kind = 'owner_prompt' AND status = 'pending'"
            return int(c.execute(text(query)).scalar_one())

    def kinds(self) -> dict[int, str]:
        with self.engine.connect() as c:
            return {int(i): str(k) for i, k in c.execute(text("SELECT id, kind FROM outbox"))}

    def wait_drained(self, limit: float = DRAIN_LIMIT_S) -> tuple[float | None, int]:
        """(time.time() when no owner prompt was pending, or None; pending at the end)."""
        deadline = time.monotonic() + limit
        while True:
            pending = self.pending_prompts()
            if pending == 0:
                return time.time(), 0
            if time.monotonic() > deadline:
                return None, pending
            time.sleep(0.1)

    def close(self) -> None:
        self.engine.dispose()


# -- phases ------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    result: Result
    started: float  # time.time()
    ended: float
    server_cpu: float  # CPU seconds the server used during the phase
    client_cpu: float  # CPU seconds this load generator used
    core0_other: float  # CPU seconds other processes took on the server's core (noise)
    loadavg: str
    starts_acked: int = 0
    last_ack: float = 0.0
    backlog_at_end: int | None = None
    drained_at: float | None = None
    pending_after_limit: int = 0
    prompts: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        wall = self.ended - self.started
        return {
            "phase": self.name,
            **self.result.summary(),
            "server_cpu_pct": round(100 * self.server_cpu / wall, 0) if wall else None,
            "loadgen_cpu_pct": round(100 * self.client_cpu / wall, 0) if wall else None,
            "others_on_server_core_pct": round(100 * self.core0_other / wall, 0) if wall else None,
            "loadavg_after": self.loadavg,
            "backlog_at_end": self.backlog_at_end,
            **self.prompts,
        }


def run_phase(
    name: str,
    workload: Workload,
    pid: int,
    *,
    mode: str,
    connections: int,
    seconds: float,
    rate: float = 0.0,
    max_requests: int = 200_000,
) -> Phase:
    acked_before = workload.starts_acked
    cpu_before, own_before = cpu_seconds(pid), time.process_time()
    core_before = core_busy_seconds(SERVER_CORE)
    started = time.time()
    if mode == "closed":
        result = asyncio.run(
            closed_loop(
                workload, connections=connections, seconds=seconds, max_requests=max_requests
            )
        )
    else:
        result = asyncio.run(
            open_loop(workload, rate=rate, seconds=seconds, max_requests=max_requests)
        )
    ended = time.time()
    server_cpu = cpu_seconds(pid) - cpu_before
    phase = Phase(
        name,
        result,
        started,
        ended,
        server_cpu,
        time.process_time() - own_before,
        max(0.0, core_busy_seconds(SERVER_CORE) - core_before - server_cpu),
        " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        starts_acked=workload.starts_acked - acked_before,
        last_ack=workload.last_start_ack,
    )
    print(f"  {name}: {json.dumps(phase.row())}", file=sys.stderr, flush=True)
    return phase


def settle(pid: int, name: str) -> None:
    waited = wait_idle(pid)
    if waited > 1:
        print(f"  (server busy {waited:.1f} s after {name})", file=sys.stderr, flush=True)


def prompt_figures(phase: Phase, posts: list[list[Any]], kinds: dict[int, str]) -> dict[str, Any]:
    """Owner prompts posted for this phase's starts: rate during the load, and the lag."""
    end_of_window = phase.drained_at or float("inf")
    times = sorted(
        at
        for at, _channel, outbox_id in posts
        if kinds.get(int(outbox_id or 0)) == "owner_prompt" and phase.started <= at <= end_of_window
    )
    during = sum(1 for at in times if at <= phase.ended)
    wall = phase.ended - phase.started
    ack_rate = phase.starts_acked / wall if wall else 0.0
    prompt_rate = during / wall if wall else 0.0
    lag = (times[-1] - phase.last_ack) if times and phase.starts_acked else None
    if phase.drained_at is None:
        left = phase.pending_after_limit
        verdict = f"FALLS BEHIND: {left} prompts pending {DRAIN_LIMIT_S:.0f} s after the load"
    elif lag is not None and lag > 2.0:
        growth = max(0.0, ack_rate - prompt_rate)
        verdict = f"behind: backlog grew ~{growth:.0f}/s, last prompt {lag:.1f} s after last ack"
    else:
        verdict = "keeps up"
    return {
        "starts_acked": phase.starts_acked,
        "prompts_posted": len(times),
        "prompts_per_s_during": round(prompt_rate, 1),
        "starts_acked_per_s": round(ack_rate, 1),
        "prompt_lag_s": None if lag is None else round(lag, 2),
        "prompts_verdict": verdict,
    }


# -- targets -----------------------------------------------------------------------------
@dataclass
class Options:
    seconds: float
    connections: int
    warmup: float
    workdir: Path
    profile: Path | None


def bench_ack_only(opts: Options, *, pbr: bool) -> dict[str, Phase]:
    label = "ack-only pbr=True" if pbr else "ack-only default"
    print(f"[{label}]", file=sys.stderr, flush=True)
    port = free_port()
    argv = [sys.executable, "-m", "bench.ack_only_app", "--port", str(port)]
    if pbr:
        argv.append("--process-before-response")
    env = {**os.environ, "SLACK_SIGNING_SECRET": SECRET}
    log = opts.workdir / f"ack-only-{pbr}.log"
    with process(argv, env=env, core=SERVER_CORE, log=log) as child:
        wait_healthy(port, child, log)
        workload = Workload(SECRET, port, tag="ACK")
        run_phase("warmup", workload, child.pid, mode="closed", connections=10, seconds=opts.warmup)
        phases = {
            "closed_start": run_phase(
                "closed_start",
                workload,
                child.pid,
                mode="closed",
                connections=opts.connections,
                seconds=opts.seconds,
            )
        }
        if pbr:  # its own latency at the offered load the bot is held to
            rate = 0.5 * phases["closed_start"].result.throughput
            phases["open_start"] = run_phase(
                "open_start",
                workload,
                child.pid,
                mode="open",
                connections=0,
                seconds=opts.seconds,
                rate=rate,
            )
        settle(child.pid, "open_start")
        workload.kind = "click"
        phases["closed_click"] = run_phase(
            "closed_click",
            workload,
            child.pid,
            mode="closed",
            connections=opts.connections,
            seconds=opts.seconds,
        )
    return phases


def measure_starts(
    opts: Options,
    workload: Workload,
    pid: int,
    outbox: Outbox,
    slack: StandIn,
    open_rate: float,
    *,
    clicks: bool,
) -> dict[str, Phase]:
    """The start phases (and the clicks, if the server has them), each drained of prompts."""

    def measured(name: str, **how: Any) -> Phase:
        phase = run_phase(name, workload, pid, **how)
        phase.backlog_at_end = outbox.pending_prompts()
        phase.drained_at, phase.pending_after_limit = outbox.wait_drained()
        settle(pid, name)
        return phase

    measured("warmup", mode="closed", connections=10, seconds=opts.warmup)
    phases = {
        "closed_start": measured(
            "closed_start", mode="closed", connections=opts.connections, seconds=opts.seconds
        ),
        "open_start": measured(
            "open_start", mode="open", connections=0, seconds=opts.seconds, rate=open_rate
        ),
    }
    own_rate = 0.5 * phases["closed_start"].result.throughput
    phases["open_start_own"] = measured(
        "open_start_own", mode="open", connections=0, seconds=opts.seconds, rate=own_rate
    )
    if clicks:
        workload.kind = "click"
        phases["closed_click"] = measured(
            "closed_click", mode="closed", connections=opts.connections, seconds=opts.seconds
        )
    record = slack.dump()
    kinds = outbox.kinds()
    for name in ("closed_start", "open_start", "open_start_own"):
        phases[name].prompts = prompt_figures(phases[name], record["posts"], kinds)
    print(f"  stand-in calls: {record['counts']}", file=sys.stderr, flush=True)
    return phases


def bench_bot(opts: Options, db: str, pg_url: str | None, open_rate: float) -> dict[str, Phase]:
    print(f"[bot on {db}]", file=sys.stderr, flush=True)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_database(db, pg_url, opts.workdir))
        slack = stack.enter_context(standin(opts.workdir))
        port = free_port()
        argv = [sys.executable, "-m", "bot", "serve", "--host", HOST, "--port", str(port)]
        if opts.profile is not None:
            opts.profile.mkdir(parents=True, exist_ok=True)
            out = opts.profile / f"bot-{db}.prof"
            argv[1:2] = ["-m", "cProfile", "-o", str(out), "-m"]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SLACK_API_URL": slack.url,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
        }
        log = opts.workdir / f"bot-{db}.log"
        child = stack.enter_context(process(argv, env=env, core=SERVER_CORE, log=log))
        wait_healthy(port, child, log)
        outbox = Outbox(url)
        stack.callback(outbox.close)
        workload = Workload(SECRET, port, tag="S" if db == "sqlite" else "P")
        phases = measure_starts(opts, workload, child.pid, outbox, slack, open_rate, clicks=True)
    if opts.profile is not None:
        summarize_profile(opts.profile / f"bot-{db}.prof")
    return phases


def floor_label(libraries: tuple[str, ...]) -> str:
    return f"{FLOOR} (sqlite)" + "".join(f" + {name}" for name in libraries)


def bench_floor(opts: Options, open_rate: float, libraries: tuple[str, ...]) -> dict[str, Phase]:
    """The hand-written floor (bench/floor_app.py) on SQLite, measured like the bot."""
    print(f"[{floor_label(libraries)}]", file=sys.stderr, flush=True)
    with contextlib.ExitStack() as stack:
        slack = stack.enter_context(standin(opts.workdir))
        database = opts.workdir / f"floor-{'-'.join(libraries)}.db"
        port = free_port()
        argv = [sys.executable, "-m", "bench.floor_app", "--port", str(port)]
        argv += ["--database", str(database), "--slack-api-url", slack.url]
        argv += [f"--with={name}" for name in libraries]
        env = {**os.environ, "SLACK_SIGNING_SECRET": SECRET}
        log = opts.workdir / "floor.log"
        child = stack.enter_context(process(argv, env=env, core=SERVER_CORE, log=log))
        wait_healthy(port, child, log)
        outbox = Outbox(f"sqlite:///{database}")
        stack.callback(outbox.close)
        workload = Workload(SECRET, port, tag="F")
        return measure_starts(opts, workload, child.pid, outbox, slack, open_rate, clicks=False)


def summarize_profile(path: Path) -> None:
    import pstats

    if not path.exists():
        print(f"  no profile written at {path}", file=sys.stderr)
        return
    with (path.with_suffix(".txt")).open("w") as out:
        stats = pstats.Stats(str(path), stream=out)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
    print(f"  profile: {path} and {path.with_suffix('.txt')}", file=sys.stderr)


# -- report ------------------------------------------------------------------------------
def _ms(phase: Phase, q: float) -> str:
    return f"{phase.result.quantile(q) * 1000:.1f}"


def report(
    ack_default: dict[str, Phase],
    ack_pbr: dict[str, Phase],
    bots: dict[str, dict[str, Phase]],
    open_rate: float,
) -> str:
    lines = [
        "| target | phase | req/s | p50 ms | p99 ms | max ms | non-200/errors "
        "| server CPU | others on its core | load gen CPU |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]

    def add(target: str, phases: dict[str, Phase]) -> None:
        for name, p in phases.items():
            r = p.result
            row = p.row()
            bad = {k: v for k, v in r.statuses.items() if k != 200} | dict(r.errors)
            load = (
                f"{name} ({r.connections} conn)"
                if r.mode == "closed"
                else f"{name} @ {r.offered_rate:.0f}/s"
            )
            lines.append(
                f"| {target} | {load} | {r.throughput:.0f} | {_ms(p, 0.5)} | {_ms(p, 0.99)} "
                f"| {max(r.latencies, default=0) * 1000:.1f} | {bad or '-'} "
                f"| {row['server_cpu_pct']}% | {row['others_on_server_core_pct']}% "
                f"| {row['loadgen_cpu_pct']}% |"
            )

    add("ack-only default", ack_default)
    add("ack-only pbr=True", ack_pbr)
    for db, phases in bots.items():
        add(db if db.startswith(FLOOR) else f"bot ({db})", phases)
    lines += [
        "",
        "| bot on | start req/s | ÷ ack-only default | ÷ ack-only pbr=True | goal ≥ 0.5 x | "
        f"open loop @ {open_rate:.0f}/s p99 | goal ≤ 15 ms |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for db, phases in bots.items():
        t = phases["closed_start"].result.throughput
        r_def = t / max(ack_default["closed_start"].result.throughput, 1e-9)
        r_pbr = t / max(ack_pbr["closed_start"].result.throughput, 1e-9)
        p99 = phases["open_start"].result.quantile(0.99) * 1000
        lines.append(
            f"| {db} | {t:.0f} | {r_def:.2f} | {r_pbr:.2f} | {'met' if r_pbr >= 0.5 else 'MISSED'} "
            f"| {p99:.1f} | {'met' if p99 <= 15 else 'MISSED'} |"
        )
    lines += [
        "",
        "| bot on | phase | starts acked | acked/s | prompts/s during | prompts posted | "
        "backlog at end | lag last ack → last prompt | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for db, phases in bots.items():
        for name in ("closed_start", "open_start", "open_start_own"):
            p = phases[name]
            f = p.prompts
            lines.append(
                f"| {db} | {name} | {f['starts_acked']} | {f['starts_acked_per_s']} "
                f"| {f['prompts_per_s_during']} | {f['prompts_posted']} | {p.backlog_at_end} "
                f"| {f['prompt_lag_s']} s | {f['prompts_verdict']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ack-latency", description=__doc__)
    parser.add_argument("--standin-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--database-url", help="PostgreSQL server URL; a fresh database is made")
    parser.add_argument("--seconds", type=float, default=12.0, help="per phase (default 12)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--open-rate", type=float, help="default: half the ack-only throughput")
    parser.add_argument("--profile", type=Path, help="cProfile the bot server; write stats here")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure the hand-written floor (SQLite), alone and with each library",
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args(argv)
    if args.standin_child:
        return standin_child()
    if args.seconds > 120 or args.connections > 1000:
        parser.error("keep runs short: --seconds ≤ 120 and --connections ≤ 1000")
    dbs = args.db or (["sqlite", "postgresql"] if args.database_url else ["sqlite"])
    _pin_to(CLIENT_CORE)
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp:
        opts = Options(args.seconds, args.connections, args.warmup, Path(tmp), args.profile)
        print(f"cores available: {sorted(_cores())}; work dir {tmp}", file=sys.stderr)
        ack_default = bench_ack_only(opts, pbr=False)
        ack_pbr = bench_ack_only(opts, pbr=True)
        open_rate = args.open_rate or 0.5 * ack_pbr["closed_start"].result.throughput
        bots = {db: bench_bot(opts, db, args.database_url, open_rate) for db in dbs}
        if args.floor:
            for libraries in FLOOR_VARIANTS:
                bots[floor_label(libraries)] = bench_floor(opts, open_rate, libraries)
        table = report(ack_default, ack_pbr, bots, open_rate)
        print(table)
        if args.json is not None:
            everything = {
                "ack_only_default": {n: p.row() for n, p in ack_default.items()},
                "ack_only_pbr": {n: p.row() for n, p in ack_pbr.items()},
                **{f"bot_{db}": {n: p.row() for n, p in ph.items()} for db, ph in bots.items()},
                "open_rate": open_rate,
            }
            args.json.write_text(json.dumps(everything, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
