"""Render a run's results as Markdown: one table per workload, with ratios against the peers."""

from __future__ import annotations

from typing import Any

from bench._results import Measurement, RunResult, WorkloadResult


def render_report(run: RunResult) -> str:
    """The Markdown report of ``run``."""
    env = run.environment
    python = env["python"]
    machine = env["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v is not None)
    git = env["git"]
    revision = f"{(git['commit'] or 'unknown')[:12]}{' (dirty)' if git['dirty'] else ''}"
    lines = [
        f"# datatier benchmarks, {run.created_at[:10]}",
        "",
        f"- mode: {run.mode}",
        f"- machine: {machine['platform']}, {machine['architecture']}, {machine['cpu_count']} CPUs",
        f"- python: {python['implementation']} {python['version']}",
        f"- packages: {packages}",
        f"- revision: {revision}",
        "",
        "Times are wall-clock: milliseconds per repetition, or microseconds per call for the",
        "client workloads. A ratio is datatier's median over the peer's: below 1 datatier is",
        "faster, above 1 it is slower.",
    ]
    for workload in run.workloads:
        lines += ["", *_render_workload(workload)]
    return "\n".join(lines) + "\n"


def _render_workload(workload: WorkloadResult) -> list[str]:
    lines = [f"## {workload.name}", ""]
    if workload.error is not None:
        lines += [f"**Failed:** {workload.error}", ""]
    lines += [workload.description, "", _describe_params(workload.params)]
    if any(m.calls_per_s is not None for m in workload.measurements):
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
        lines += ["", "| datatier | vs peer | ratio | target |", "|---|---|---:|---|"]
        lines += [
            f"| {r.datatier} | {r.peer} | {r.value:.2f}x | {_verdict(r.target, r.meets_target)} |"
            for r in workload.ratios
        ]
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


def _row(m: Measurement) -> str:
    if m.stats is None:
        return f"| {m.subject} | {m.operation} | skipped: {m.skipped} | | | | |"
    memory = f"{m.peak_memory_bytes / 2**20:.1f} MiB" if m.peak_memory_bytes is not None else "-"
    s = m.stats
    return (
        f"| {m.subject} | {m.operation} | {s.min_ms:.1f} | {s.median_ms:.1f} | {s.p95_ms:.1f} "
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
    shown = ", ".join(
        f"{key}: {value}"
        for key, value in params.items()
        if key not in ("target_ms", "warmup", "reps") and not isinstance(value, dict)
    )
    nested = "; ".join(
        f"{key}: " + ", ".join(f"{k} {v}" for k, v in value.items())
        for key, value in params.items()
        if isinstance(value, dict) and value
    )
    return f"Input: {shown}" + (f"; {nested}." if nested else ".")
