"""Server-rendered inline SVG charts for the health page: no JavaScript, no CDN, nothing to load.

Colours come from CSS classes (observe/health.css), not inline styles, so a strict
Content-Security-Policy (no inline styles or scripts) leaves the charts intact. Every chart has a
`role="img"` and an aria-label that states its point, and each bar a <title> (the hover tooltip).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from observe.health_stats import Totals

LEFT, BOTTOM, TOP = 44, 18, 8


def _tick(point: datetime, hourly: bool) -> str:
    return point.strftime("%a %H:%M" if hourly else "%H:%M")


def _frame(width: int, height: int, label: str, body: str, classes: str) -> SafeString:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
        'preserveAspectRatio="none">{}</svg>',
        classes,
        width,
        height,
        label,
        mark_safe(body),  # noqa: S308 — built below from format_html pieces only
    )


def _axis(width: int, height: int, top_value: str, points: Sequence[datetime], hourly: bool) -> str:
    base = height - BOTTOM
    ticks = [0, len(points) // 2, len(points) - 1] if points else []
    step = (width - LEFT) / max(1, len(points))
    parts = [
        format_html('<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>', LEFT, base, width, base),
        format_html(
            '<text class="axis-label" x="{}" y="{}" text-anchor="end">{}</text>', LEFT - 4, TOP + 8, top_value
        ),
        format_html('<text class="axis-label" x="{}" y="{}" text-anchor="end">0</text>', LEFT - 4, base),
    ]
    for i in ticks:
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        parts.append(
            format_html(
                '<text class="axis-label" x="{}" y="{}" text-anchor="{}">{}</text>',
                round(LEFT + step * i + (step if anchor == "end" else 0), 1),
                height - 4,
                anchor,
                _tick(points[i], hourly),
            )
        )
    return "".join(parts)


def calls_chart(
    series: Sequence[Totals], points: Sequence[datetime], *, hourly: bool, label: str
) -> SafeString:
    """Stacked bars per time point: answered first time (ok), answered as a fallback, failed."""
    width, height = 720, 150
    peak = max((t.calls for t in series), default=0) or 1
    scale = (height - BOTTOM - TOP) / peak
    step = (width - LEFT) / max(1, len(series))
    bars = []
    for i, (totals, point) in enumerate(zip(series, points, strict=True)):
        x = LEFT + step * i
        y = height - BOTTOM
        layers = (
            ("bar-ok", totals.ok - totals.fallback),
            ("bar-fallback", totals.fallback),
            ("bar-failed", totals.failed),
        )
        for css, value in layers:
            if value <= 0:
                continue
            h = value * scale
            y -= h
            bars.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>',
                    css,
                    round(x, 2),
                    round(y, 2),
                    round(max(step - 1, 0.6), 2),
                    round(h, 2),
                    _tick(point, hourly),
                    value,
                    {"bar-ok": "answered", "bar-fallback": "answered as fallback", "bar-failed": "failed"}[
                        css
                    ],
                )
            )
    body = _axis(width, height, str(peak), points, hourly) + "".join(bars)
    return _frame(width, height, label, body, "chart-calls")


def latency_chart(
    series: Sequence[Totals], points: Sequence[datetime], *, hourly: bool, label: str
) -> SafeString:
    """p50 and p95 latency of answers per time point (a gap where nothing answered)."""
    width, height = 720, 150
    p95s = [t.p95_ms for t in series]
    peak = max((v for v in p95s if v is not None), default=0) or 1
    scale = (height - BOTTOM - TOP) / peak
    step = (width - LEFT) / max(1, len(series))

    def line(values: Sequence[int | None], css: str) -> str:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            x = LEFT + step * i + step / 2
            runs[-1].append(f"{x:.1f},{height - BOTTOM - value * scale:.1f}")
        return "".join(
            format_html('<polyline class="{}" points="{}"/>', css, " ".join(run))
            for run in runs
            if len(run) > 1
        ) + "".join(
            format_html('<circle class="{}" cx="{}" cy="{}" r="2"/>', css, *run[0].split(","))
            for run in runs
            if len(run) == 1
        )

    body = (
        _axis(width, height, _ms(peak), points, hourly)
        + line([t.p50_ms for t in series], "line-p50")
        + line(p95s, "line-p95")
    )
    return _frame(width, height, label, body, "chart-latency")


def sparkline(series: Sequence[Totals], *, label: str) -> SafeString:
    """Success rate per time point, 0–100 %, as a small line (gaps where there were no calls)."""
    width, height = 160, 28
    step = width / max(1, len(series))
    marks = []
    for i, totals in enumerate(series):
        if not totals.calls:
            continue
        rate = totals.ok / totals.calls
        css = "spark-ok" if rate >= 0.95 else "spark-warn" if rate >= 0.7 else "spark-bad"
        h = max(1.5, rate * (height - 2))
        marks.append(
            format_html(
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}"/>',
                css,
                round(step * i, 2),
                round(height - h, 2),
                round(max(step - 0.4, 0.5), 2),
                round(h, 2),
            )
        )
    return _frame(width, height, label, "".join(marks), "chart-spark")


def reasons_bar(totals: Totals, *, label: str) -> SafeString:
    """Failures by reason as one horizontal stacked bar (each reason its own colour class)."""
    width, height = 160, 12
    if not totals.failed:
        return SafeString("")
    x = 0.0
    parts = []
    for reason, count in totals.reasons_sorted:
        w = width * count / totals.failed
        parts.append(
            format_html(
                '<rect class="reason-{}" x="{}" y="0" width="{}" height="{}"><title>{}: {}</title></rect>',
                reason,
                round(x, 2),
                round(w, 2),
                height,
                reason,
                count,
            )
        )
        x += w
    return _frame(width, height, label, "".join(parts), "chart-reasons")


def _ms(value: int) -> str:
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value} ms"


def legend(items: Sequence[tuple[str, str]]) -> SafeString:
    return format_html_join(
        "",
        '<span class="legend-item"><svg width="10" height="10" aria-hidden="true"><rect class="{}" '
        'width="10" height="10"/></svg> {}</span>',
        items,
    )


Formatter = Callable[[float], str]
