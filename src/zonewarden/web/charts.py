"""Server-rendered SVG charts. Every text is escaped; colours come from CSS classes (the
Content-Security-Policy allows no inline styles), so a chart is plain markup."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def bars(title: str, items: Sequence[tuple[str, int]], *, css_prefix: str = "bar", width: int = 360) -> Markup:
    """A horizontal bar chart of (label, count) with its title as the accessible name."""
    row, label_w, top = 22, 110, 4
    height = top + row * max(len(items), 1) + 4
    peak = max((v for _, v in items), default=0) or 1
    span = width - label_w - 44
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(items):
        y = top + i * row
        w = round(span * value / peak) if value else 0
        parts.append(f'<text x="0" y="{y + 15}">{escape(label)}</text>')
        parts.append(f'<rect class="track" x="{label_w}" y="{y + 3}" width="{span}" height="14"/>')
        if w:
            parts.append(f'<rect class="bar {escape(css_prefix)}-{escape(label)}" x="{label_w}" y="{y + 3}" '
                         f'width="{w}" height="14"/>')
        parts.append(f'<text x="{label_w + span + 6}" y="{y + 15}">{int(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def gauge(title: str, fraction: float | None, *, width: int = 360) -> Markup:
    """One bar from 0 to 100 % (patch compliance)."""
    value = 0.0 if fraction is None else max(0.0, min(1.0, fraction))
    text = "n/a" if fraction is None else f"{value * 100:.0f} %"
    span = width - 60
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} 24" role="img" aria-label="{escape(title)}: {escape(text)}">'
        f"<title>{escape(title)}</title>"
        f'<rect class="track" x="0" y="4" width="{span}" height="16"/>'
        f'<rect class="bar" x="0" y="4" width="{round(span * value)}" height="16"/>'
        f'<text x="{span + 6}" y="17">{escape(text)}</text></svg>'
    )


def columns(title: str, points: Sequence[tuple[str, float | None]], *, unit: str = "", peak: float | None = None,
            width: int = 360, height: int = 120) -> Markup:
    """A column chart of a monthly series: (label, value or None for no data), oldest first.

    Labels are shown under every other column (the months' ``MM``); a month without data has
    no column and says "no data" in its tooltip. The page shows the same figures as a table."""
    base, top, left = height - 16, 16, 2
    n = max(len(points), 1)
    slot = (width - left) / n
    highest = peak if peak is not None else max((v for _, v in points if v is not None), default=0.0)
    highest = highest or 1.0
    parts = [f'<svg class="chart trend" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<line class="axis" x1="0" y1="{base}" x2="{width}" y2="{base}"/>']
    for i, (label, value) in enumerate(points):
        x = left + i * slot
        text = "no data" if value is None else f"{value:g}{unit}"
        if value is not None:
            h = max(1, round((base - top) * min(value, highest) / highest)) if value else 0
            parts.append(f'<rect class="bar" x="{x + 2:.1f}" y="{base - h}" width="{slot - 4:.1f}" height="{h}">'
                         f"<title>{escape(label)}: {escape(text)}</title></rect>")
        if i % 2 == (n - 1) % 2:  # always label the latest month
            parts.append(f'<text class="tick" x="{x + slot / 2:.1f}" y="{height - 3}" text-anchor="middle">'
                         f"{escape(label[-2:])}</text>")
    last = next((v for _, v in reversed(points) if v is not None), None)
    if last is None:
        parts.append(f'<text class="latest" x="{width / 2:.0f}" y="{base / 2:.0f}" text-anchor="middle">'
                     "no data in these months</text>")
    else:
        parts.append(f'<text class="latest" x="{width - 2}" y="10" text-anchor="end">latest {escape(f"{last:g}{unit}")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
