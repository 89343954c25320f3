"""The bot as an operator runs it: ``python -m bot …`` in a child process."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

# A working directory with no `.env` file, so only the environment given is read.
NEUTRAL_DIRECTORY = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(**settings: str) -> dict[str, str]:
    """This process's environment without any Slack or database setting, plus ``settings``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return keep | settings


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=NEUTRAL_DIRECTORY,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class Serving:
    """A running ``serve``: its base URL, the process, and what it has logged so far."""

    url: str
    process: subprocess.Popen[str]
    printed: Callable[[], str]


@contextlib.contextmanager
def serve_process(env: dict[str, str], *args: str, cwd: Path | None = None) -> Iterator[Serving]:
    """``postmortem-bot serve *args`` on a free port, healthy; stopped on the way out if the
    test has not stopped it itself.

    If it exits or never answers ``/healthz``, the assertion shows what it printed.
    """
    port = free_port()
    env = env | {"HOST": "127.0.0.1", "PORT": str(port)}
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", *args],
            env=env,
            cwd=cwd or NEUTRAL_DIRECTORY,
            stdout=subprocess.DEVNULL,
            stderr=output,
            text=True,
        )

        def printed() -> str:
            output.seek(0)
            return output.read()

        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"serve exited with {process.returncode}:\n{printed()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{url} never became healthy:\n{printed()}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                time.sleep(0.1)
            yield Serving(url, process, printed)
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=15)


@contextlib.contextmanager
def running_serve(env: dict[str, str], *args: str, cwd: Path | None = None) -> Iterator[str]:
    """``postmortem-bot serve *args`` on a free port, healthy; yields its base URL."""
    with serve_process(env, *args, cwd=cwd) as serving:
        yield serving.url
