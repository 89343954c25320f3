"""``python -m bench``: list the benchmarks; ``python -m bench <name> [options]`` runs one."""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench import ack_latency, dispatch_tick

BENCHMARKS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "ack-latency": (
        "ack throughput and p50/p99 of the bot vs an ack-only Bolt app; owner prompts keep up",
        ack_latency.main,
    ),
    "dispatch-tick": (
        "one dispatcher tick (1,000 due) with 1,000 vs 1,000,000 rows of outbox history",
        dispatch_tick.main,
    ),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "list"}:
        print("benchmarks (python -m bench <name> --help for options):")
        for name, (what, _run) in BENCHMARKS.items():
            print(f"  {name:14} {what}")
        print("figures and the exact commands used: bench/README.md")
        return 0
    name, *rest = argv
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; `python -m bench` lists them", file=sys.stderr)
        return 2
    return BENCHMARKS[name][1](rest)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
