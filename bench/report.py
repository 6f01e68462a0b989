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
    http = render_http(run.workloads)
    if http:
        lines += ["", *http]
    costs = render_feature_costs(run.workloads)
    if costs:
        lines += ["", *costs]
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
        lines.append(
            "- the blog dataset carries one index beyond its schema, on Post.createdAt, so the "
            "list workloads measure the subjects rather than a sort of every post"
        )
    pools = next((w.params["pool_size"] for w in run.workloads if "pool_size" in w.params), None)
    if pools is not None:
        lines.append(
            f"- pools: {pools} connections for datatier and every pooled peer; the floor uses one "
            "connection (8 under contention, one per client); all in-process subjects share one "
            "Python process and one event loop"
        )
    load = env.get("load_average")
    if isinstance(load, dict) and load.get("start"):
        per_workload = [
            float(w.params[LOAD_KEY].split(",")[1]) for w in run.workloads if LOAD_KEY in w.params
        ]
        spread = (
            f"; after each workload {min(per_workload):.2f}-{max(per_workload):.2f}"
            if per_workload
            else ""
        )
        end = load.get("end") or "-"
        lines.append(
            f"- load average (1, 5, 15 min): {load['start']} at the start, {end} at the end"
            f"{spread} (the machine is shared: other work ran beside the bench)"
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


LOAD_KEY = "load average (1 min) before, after"


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


def render_http(workloads: list[WorkloadResult]) -> list[str]:
    """datatier's HTTP entries, one row per transport and workload, with their ratios."""
    rows = []
    for workload in workloads:
        if not workload.name.startswith("http.") or workload.name == "http.features":
            continue
        ratios = {(r.datatier, r.peer): r.value for r in workload.ratios}
        best = next((r for r in workload.ratios if r.kind == "best peer"), None)
        for m in workload.measurements:
            if m.subject != "datatier":
                continue
            key = f"{m.subject} {m.operation}"
            if m.stats is None or m.throughput is None:
                rows.append(
                    f"| {workload.name} | {m.operation} | skipped: {m.skipped} |" + " |" * 9
                )
                continue
            vs = [ratios.get((key, f"{peer} {operation}")) for peer, operation in HTTP_REFERENCES]
            best_text = (
                f"{best.peer} {best.value:.2f}x"
                if best is not None and best.datatier == key
                else ""
            )
            statements = _number(m.statements_per_op, 1)
            if m.utility_per_op:
                statements += f" +{m.utility_per_op:.1f}"
            p99 = "-" if m.stats.p99_ms is None else f"{m.stats.p99_ms:.1f}"
            rows.append(
                f"| {workload.name} | {m.operation} | {m.throughput.median:,.0f} "
                f"| {m.stats.median_ms:.1f} | {p99} | {statements} | {_number(m.client_cpu_us)} "
                f"| {_number(m.server_cpu_us)} | "
                + " | ".join("-" if v is None else f"{v:.2f}x" for v in vs)
                + f" | {best_text} |"
            )
    if not rows:
        return []
    return [
        "## HTTP: datatier against its peers",
        "",
        "datatier's API server (`create_app` under uvicorn: one process, uvloop and httptools; "
        "access log, metrics, auth, rate limits, ETags and compression off, as the hand-written "
        "peers have none; `http.features` measures each) asked over REST, RPC and GraphQL. "
        "Ratios are datatier's time per request over the other's (1/throughput under the "
        "concurrent load): below 1 datatier is faster. Server CPU is the HTTP server "
        "process's, PostgreSQL CPU its backends', both per request.",
        "",
        "| workload | datatier | req/s | p50 ms | p99 ms | statements/req | server CPU µs/req "
        "| PostgreSQL CPU µs/req | vs hand-written | vs Drizzle | vs PostGraphile "
        "| vs best peer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *rows,
    ]


HTTP_REFERENCES = (
    ("starlette+asyncpg", "hand-written SQL, uvicorn"),
    ("drizzle+fastify", "node-postgres, Node 22"),
    ("postgraphile", "GraphQL, amber preset, Node 22"),
)


def render_feature_costs(workloads: list[WorkloadResult]) -> list[str]:
    """What each optional API feature adds per request, against the baseline measured beside it."""
    workload = next((w for w in workloads if w.name == "http.features"), None)
    if workload is None:
        return []
    by_key = {(m.subject, m.operation): m for m in workload.measurements}
    reads = list(dict.fromkeys(m.subject for m in workload.measurements))
    features = [
        m.operation
        for m in workload.measurements
        if m.subject == reads[0] and not m.operation.startswith("baseline")
    ]
    rows = []
    for feature in features:
        cells = []
        for read in reads:
            on, off = (
                by_key.get((read, feature)),
                by_key.get((read, f"baseline (all off), beside {feature}")),
            )
            if on is None or off is None or on.throughput is None or off.throughput is None:
                cells.append("- | - | - | -")
                continue
            added = (1 / on.throughput.median - 1 / off.throughput.median) * 1e6
            cpu = (
                "-"
                if on.client_cpu_us is None or off.client_cpu_us is None
                else f"{on.client_cpu_us - off.client_cpu_us:+,.0f}"
            )
            cells.append(
                f"{off.throughput.median:,.0f} | {on.throughput.median:,.0f} | {added:+,.0f} | {cpu}"
            )
        rows.append(f"| {feature} | " + " | ".join(cells) + " |")
    head = " | ".join(
        f"{r}: baseline req/s | on req/s | µs/req added | server CPU µs/req added" for r in reads
    )
    return [
        "## Feature costs",
        "",
        "datatier's REST reads with one feature switched on, each beside a baseline server with "
        "every feature off, measured in the same interleaved rounds (`http.features`). "
        "µs/req added: 1/throughput with the feature minus the baseline's; server CPU: the "
        "HTTP server process's CPU per request, minus the baseline's (steadier on a busy "
        "machine).",
        "",
        f"| feature | {head} |",
        "|---|" + "---:|" * (4 * len(reads)),
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
