"""Server-rendered inline SVG charts for the health page: no JavaScript, no CDN, nothing to load.

Colours come from CSS classes (observe/health.css), not inline styles, so a strict
Content-Security-Policy (no inline styles or scripts) leaves the charts intact. Every chart has a
`role="img"` and an aria-label that states its point, and each bar a <title> (the hover tooltip).

Markup is built with f-strings: every number is ours and every text goes through html.escape (a page
has a few thousand SVG elements, and format_html per element was most of its render time).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

from observe.health_stats import Totals

LEFT, BOTTOM, TOP = 44, 18, 8
_MEANING = {"bar-ok": "answered first", "bar-fallback": "answered as fallback", "bar-failed": "failed"}


def _tick(point: datetime, hourly: bool) -> str:
    return point.strftime("%a %H:%M" if hourly else "%H:%M")


def _frame(width: int, height: int, label: str, body: str, classes: str) -> SafeString:
    return mark_safe(  # noqa: S308 — numbers are ours, every text is escaped
        f'<svg class="chart {classes}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="none">{body}</svg>'
    )


def _axis(width: int, height: int, top_value: str, points: Sequence[datetime], hourly: bool) -> str:
    base = height - BOTTOM
    ticks = [0, len(points) // 2, len(points) - 1] if points else []
    step = (width - LEFT) / max(1, len(points))
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{width}" y2="{base}"/>',
        f'<text class="axis-label" x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{escape(top_value)}</text>',
        f'<text class="axis-label" x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>',
    ]
    for i in ticks:
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        x = LEFT + step * i + (step if anchor == "end" else 0)
        parts.append(
            f'<text class="axis-label" x="{x:.1f}" y="{height - 4}" text-anchor="{anchor}">'
            f"{_tick(points[i], hourly)}</text>"
        )
    return "".join(parts)


def calls_chart(
    series: Sequence[Totals], points: Sequence[datetime], *, hourly: bool, label: str
) -> SafeString:
    """Stacked bars per time point: answered first time, answered as a fallback, failed."""
    width, height = 720, 150
    peak = max((t.calls for t in series), default=0) or 1
    scale = (height - BOTTOM - TOP) / peak
    step = (width - LEFT) / max(1, len(series))
    bar_width = max(step - 1, 0.6)
    bars = []
    for i, (totals, point) in enumerate(zip(series, points, strict=True)):
        x = LEFT + step * i
        y = float(height - BOTTOM)
        for css, value in (
            ("bar-ok", totals.ok - totals.fallback),
            ("bar-fallback", totals.fallback),
            ("bar-failed", totals.failed),
        ):
            if value <= 0:
                continue
            h = value * scale
            y -= h
            bars.append(
                f'<rect class="{css}" x="{x:.2f}" y="{y:.2f}" width="{bar_width:.2f}" height="{h:.2f}">'
                f"<title>{_tick(point, hourly)}: {value} {_MEANING[css]}</title></rect>"
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
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append((LEFT + step * i + step / 2, height - BOTTOM - value * scale))
        parts = []
        for run in runs:
            if len(run) > 1:
                coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline class="{css}" points="{coords}"/>')
            elif run:
                parts.append(f'<circle class="{css}" cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="2"/>')
        return "".join(parts)

    body = (
        _axis(width, height, _ms(peak), points, hourly)
        + line([t.p50_ms for t in series], "line-p50")
        + line(p95s, "line-p95")
    )
    return _frame(width, height, label, body, "chart-latency")


def sparkline(series: Sequence[Totals], *, label: str) -> SafeString:
    """Success rate per time point, 0–100 %, as small bars (none where there were no calls)."""
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
            f'<rect class="{css}" x="{step * i:.2f}" y="{height - h:.2f}" width="{max(step - 0.4, 0.5):.2f}" '
            f'height="{h:.2f}"/>'
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
            f'<rect class="reason-{escape(reason)}" x="{x:.2f}" y="0" width="{w:.2f}" height="{height}">'
            f"<title>{escape(reason)}: {count}</title></rect>"
        )
        x += w
    return _frame(width, height, label, "".join(parts), "chart-reasons")


def _ms(value: int) -> str:
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value} ms"


def legend(items: Sequence[tuple[str, str]]) -> SafeString:
    return mark_safe(  # noqa: S308 — class names are constants, texts escaped
        "".join(
            f'<span class="legend-item"><svg width="10" height="10" aria-hidden="true">'
            f'<rect class="{escape(css)}" width="10" height="10"/></svg> {escape(text)}</span>'
            for css, text in items
        )
    )
