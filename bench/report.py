"""Render a run's results as Markdown: conditions, the headline ratios, then one table per workload.

``render_report(run, charts=...)`` takes the charts ``bench.charts`` drew (paths
relative to the report) and a note when it could not draw them.
"""

from __future__ import annotations

from typing import Any

from bench._results import Measurement, Ratio, RunResult, WorkloadResult

UNREACHABLE = (
    "PostgREST and Hasura are not in any package registry reachable here, so they are not measured."
)


def render_report(
    run: RunResult, charts: dict[str, str] | None = None, chart_note: str | None = None
) -> str:
    """The Markdown report of ``run``; ``charts`` maps a workload name (or ``"summary"``) to a PNG."""
    charts = charts or {}
    lines = [f"# datatier benchmarks, {run.created_at[:10]}", "", *_conditions(run)]
    headline = _headline(run.workloads)
    if headline:
        lines += ["", "## Headline", "", *headline]
        if "summary" in charts:
            lines += ["", f"![datatier's time per operation over the floor's]({charts['summary']})"]
    if chart_note:
        lines += ["", f"Charts: {chart_note}"]
    for workload in run.workloads:
        lines += ["", *_render_workload(workload)]
        if workload.name in charts:
            lines += ["", f"![{workload.name}]({charts[workload.name]})"]
    return "\n".join(lines) + "\n"


def _conditions(run: RunResult) -> list[str]:
    env = run.environment
    python, machine, git = env["python"], env["machine"], env["git"]
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v is not None)
    revision = f"{(git['commit'] or 'unknown')[:12]}{' (dirty)' if git['dirty'] else ''}"
    tools = ", ".join(
        v if v.startswith(k) else f"{k} {v}" for k, v in env.get("tools", {}).items() if v
    )
    lines = [
        f"- mode: {run.mode}",
        f"- machine: {machine['platform']}, {machine['architecture']}, {machine['cpu_count']} CPUs"
        " (shared with whatever else ran at the time)",
        f"- python: {python['implementation']} {python['version']}",
        f"- packages: {packages}",
        f"- tools: {tools or 'none found'}",
        f"- revision: {revision}",
    ]
    server = next((w.params["server"] for w in run.workloads if "server" in w.params), None)
    if isinstance(server, dict):
        settings = ", ".join(f"{k}={v}" for k, v in server["settings"].items())
        lines.append(
            f"- PostgreSQL {server['version']}, {server['origin']}, one server process; {settings}"
        )
        lines += [f"  - {note}" for note in server["notes"]]
    pools = next((w.params["pool_size"] for w in run.workloads if "pool_size" in w.params), None)
    if pools is not None:
        lines.append(
            f"- pools: {pools} connections for datatier and every pooled peer; the floor uses one "
            "connection (8 under contention, one per client); all in-process subjects share one "
            "Python process and one event loop"
        )
    lines += [
        f"- {UNREACHABLE}",
        "",
        "Each in-process workload runs every subject over the same arguments in interleaved "
        "rounds (the first subject rotating) after a warm-up. Throughput is operations per "
        "second per round: the median, with the min-max spread over the rounds. Latencies "
        "(p50, p99) pool every call of every round. CPU per operation: this process's CPU time "
        "(client) and the summed CPU time of the database backends serving the subject "
        "(server, from /proc), medians over the rounds. Statements per operation come from "
        "pg_stat_statements; `+n` counts transaction control and session commands (BEGIN, "
        "COMMIT, SET, ...). A ratio is datatier's time per operation over the other's (median "
        "latency; under concurrency, 1/throughput): below 1 datatier is faster.",
    ]
    return lines


def _headline(workloads: list[WorkloadResult]) -> list[str]:
    rows = []
    for workload in workloads:
        by_kind = {r.kind: r for r in workload.ratios if r.kind is not None}
        floor = by_kind.get("floor")
        if floor is None:
            continue
        best, limit = by_kind.get("best peer"), by_kind.get("limit")
        ours = _find(workload, floor.datatier)
        rows.append(
            f"| {workload.name} | {_ops(ours)} | {floor.value:.2f}x "
            f"| {_verdict(floor.target, floor.meets_target)} "
            f"| {best.peer + f' ({best.value:.2f}x)' if best else '-'} "
            f"| {f'{limit.value:.2f}x' if limit else '-'} |"
        )
    if not rows:
        return []
    return [
        "| workload | datatier ops/s | vs floor | target | best peer (datatier vs it) "
        "| floor vs pgbench |",
        "|---|---:|---:|---|---|---:|",
        *rows,
    ]


def _find(workload: WorkloadResult, key: str) -> Measurement | None:
    return next((m for m in workload.measurements if f"{m.subject} {m.operation}" == key), None)


def _ops(m: Measurement | None) -> str:
    if m is None or m.calls_per_s is None:
        return "-"
    return f"{m.calls_per_s:,.0f}"


def _render_workload(workload: WorkloadResult) -> list[str]:
    lines = [f"## {workload.name}", ""]
    if workload.error is not None:
        lines += [f"**Failed:** {workload.error}", ""]
    lines += [workload.description, "", _describe_params(workload.params)]
    if any(m.throughput is not None for m in workload.measurements):
        lines += [
            "",
            "| subject | operation | ops/s (min-max) | p50 µs | p99 µs | client CPU µs/op "
            "| server CPU µs/op | statements/op | peak Python memory/op |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [_rounds_row(m) for m in workload.measurements]
        notes = [f"{m.subject} {m.operation}: {m.note}" for m in workload.measurements if m.note]
        lines += [""] + [f"- {note}" for note in notes] if notes else []
    elif any(m.calls_per_s is not None for m in workload.measurements):
        lines += [
            "",
            "| subject | operation | min µs | median µs | p95 µs | calls/s | calls |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        lines += [_call_row(m) for m in workload.measurements]
    elif workload.measurements:
        lines += [
            "",
            "| subject | operation | min ms | median ms | p95 ms | peak memory | reps |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        lines += [_row(m) for m in workload.measurements]
    if workload.ratios:
        lines += ["", "| datatier | vs | ratio | target |", "|---|---|---:|---|"]
        lines += [_ratio_row(r) for r in workload.ratios]
    if workload.checks:
        lines += [""]
        lines += [
            f"- {c.name}: {'passed' if c.passed else 'FAILED: ' + c.detail}"
            for c in workload.checks
        ]
    target = workload.params.get("target_ms")
    main = workload.measurements[0] if workload.measurements else None
    if isinstance(target, float) and main is not None and main.stats is not None:
        verdict = "meets" if main.stats.median_ms <= target else "misses"
        lines += ["", f"Target: {main.operation} under {target:.0f} ms; the median {verdict} it."]
    return lines


def _ratio_row(r: Ratio) -> str:
    kind = f" ({r.kind})" if r.kind else ""
    return (
        f"| {r.datatier} | {r.peer}{kind} | {r.value:.2f}x | {_verdict(r.target, r.meets_target)} |"
    )


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rounds_row(m: Measurement) -> str:
    if m.stats is None or m.throughput is None:
        return f"| {m.subject} | {m.operation} | skipped: {m.skipped} | | | | | | |"
    t, s = m.throughput, m.stats
    statements = _number(m.statements_per_op, 1)
    if m.utility_per_op:
        statements += f" +{m.utility_per_op:.1f}"
    memory = "-" if m.peak_memory_bytes is None else f"{m.peak_memory_bytes / 1024:,.0f} KiB"
    p99 = "-" if s.p99_ms is None else f"{s.p99_ms * 1e3:,.0f}"
    return (
        f"| {m.subject} | {m.operation} | {t.median:,.0f} ({t.min:,.0f}..{t.max:,.0f}) "
        f"| {s.median_ms * 1e3:,.0f} | {p99} | {_number(m.client_cpu_us)} "
        f"| {_number(m.server_cpu_us)} | {statements} | {memory} |"
    )


def _row(m: Measurement) -> str:
    if m.stats is None:
        return f"| {m.subject} | {m.operation} | skipped: {m.skipped} | | | | |"
    memory = f"{m.peak_memory_bytes / 2**20:.1f} MiB" if m.peak_memory_bytes is not None else "-"
    s = m.stats
    return (
        f"| {m.subject} | {m.operation} | {s.min_ms:.2f} | {s.median_ms:.2f} | {s.p95_ms:.2f} "
        f"| {memory} | {s.reps} |"
    )


def _call_row(m: Measurement) -> str:
    if m.stats is None:
        return f"| {m.subject} | {m.operation} | skipped: {m.skipped} | | | | |"
    s = m.stats
    return (
        f"| {m.subject} | {m.operation} | {s.min_ms * 1e3:,.0f} | {s.median_ms * 1e3:,.0f} "
        f"| {s.p95_ms * 1e3:,.0f} | {m.calls_per_s or 0:,.0f} | {s.reps} |"
    )


def _verdict(target: float | None, meets: bool | None) -> str:
    if target is None:
        return ""
    return f"≤ {target:g}x: {'meets' if meets else 'misses'}"


def _describe_params(params: dict[str, Any]) -> str:
    hidden = ("target_ms", "warmup", "reps", "server")
    shown = ", ".join(
        f"{key}: {value}"
        for key, value in params.items()
        if key not in hidden and not isinstance(value, dict)
    )
    nested = "; ".join(
        f"{key}: " + ", ".join(f"{k} {v}" for k, v in value.items())
        for key, value in params.items()
        if isinstance(value, dict) and value and key not in hidden
    )
    return f"Input: {shown}" + (f"; {nested}." if nested else ".")
