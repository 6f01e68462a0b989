"""``python -m bench [--quick] [--only NAME] [--out DIR]``: run the workloads and write the results.

Writes ``results.json`` and ``report.md`` to ``bench/results/<YYYY-MM-DD>/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import _environment
from bench._results import RunResult, WorkloadResult
from bench.charts import draw_charts
from bench.peers._site import up_to_date
from bench.peers.install import install_tools
from bench.peers.install import main as install_peers
from bench.report import render_report
from bench.workloads import RunConfig, Workload, select

RESULTS_ROOT = Path(__file__).resolve().parent / "results"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 repetitions instead of 30, 50 client calls instead of 2,000, a small database",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this workload, or every workload under NAME. (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="folder for results.json and report.md")
    parser.add_argument("--list", action="store_true", help="print the workload names and stop")
    parser.add_argument(
        "--install",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="install the peers into bench/.peers first (default: in a full run, when they are "
        "missing or out of date; never in a --quick run unless asked)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen workloads; returns the process exit code."""
    args = _parse_args(argv)
    try:
        workloads = select(args.only)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.list:
        print("\n".join(workloads))
        return 0
    install = args.install if args.install is not None else not args.quick and not up_to_date()
    if install:
        print("installing the peers (python -m bench.peers.install) ...", file=sys.stderr)
        if (code := install_peers()) != 0:
            print(f"error: installing the peers failed (exit {code})", file=sys.stderr)
            return code
    elif not args.quick and args.install is None:
        install_tools()  # the peers are up to date; wrk or Prisma's validator may be missing
    config = RunConfig.for_mode(args.quick)
    now = dt.datetime.now(dt.UTC)
    out: Path = args.out or RESULTS_ROOT / now.date().isoformat()
    out.mkdir(parents=True, exist_ok=True)
    # The machine is shared: the load average around each workload says how busy it was.
    load: dict[str, Any] = {"start": _load_average(), "end": None}
    environment = _environment.describe({"load_average": load})
    results: list[WorkloadResult] = []

    def run_result() -> RunResult:
        mode = "quick" if args.quick else "full"
        return RunResult(now.isoformat(timespec="seconds"), mode, environment, results)

    with config.resources:
        for name, run in workloads.items():
            print(f"running {name} ...", file=sys.stderr, flush=True)
            started, before = time.perf_counter(), _load_average()
            result = _run_one(name, run, config)
            result.params["load average (1 min) before, after"] = (
                f"{before[0]}, {_load_average()[0]}"
            )
            results.append(result)
            print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            # After every workload, so an interrupted run keeps what it measured.
            _write_json(out, run_result())
    load["end"] = _load_average()
    # Again: peers imported during the run report versions.
    environment = _environment.describe({"load_average": load})
    _write_json(out, run_result())
    finished = run_result()
    charts, chart_note = draw_charts(finished, out / "charts")
    report = render_report(finished, charts, chart_note)
    (out / "report.md").write_text(report, encoding="utf-8")
    print(report)
    print(f"wrote {out / 'results.json'} and {out / 'report.md'}", file=sys.stderr)
    failed = [r.name for r in results if r.error is not None]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def _write_json(out: Path, result: RunResult) -> None:
    (out / "results.json").write_text(
        json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8"
    )


def _run_one(name: str, run: Workload, config: RunConfig) -> WorkloadResult:
    """``run(config)``; a workload that raises is recorded as failed and the run goes on."""
    try:
        return run(config)
    except Exception as exc:
        traceback.print_exc()
        return WorkloadResult(name, "", {}, [], error=f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    raise SystemExit(main())
