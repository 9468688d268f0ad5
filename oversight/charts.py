"""Charts drawn as inline SVG on the server: the admin works without internet or JavaScript."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR_COLOUR = "#417690"  # the admin's own blue
AXIS_COLOUR = "#999"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def column_chart(
    items: list[tuple[str, float]], *, title: str, value_label=str, width: int = 720
) -> SafeString:
    """Vertical bars, one per item (e.g. turnover by month), with a value axis."""
    height, left, bottom, top = 260, 70, 40, 30
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = _nice_max(max((v for _, v in items), default=0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {width} {height}" style="max-width:{width}px" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(value_label(peak * i / 4))}</text>"
        )
    if not items:
        parts.append(f'<text x="{left + 10}" y="{top + plot_h / 2}" fill="#777">no data yet</text>')
    slot = plot_w / max(len(items), 1)
    for n, (label, value) in enumerate(items):
        bar_h = plot_h * value / peak
        # bars stay slim when there are few months, so one bar is not a wall
        bar_w = min(slot * 0.7, 48)
        x = left + n * slot + (slot - bar_w) / 2
        y = top + plot_h - bar_h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}: '
            f"{escape(value_label(value))}</title></rect>"
        )
        if len(items) <= 24 or n % max(1, len(items) // 12) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" fill="#333">{escape(label)}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        f'stroke="{AXIS_COLOUR}"/></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped


def bar_chart(
    items: list[tuple[str, float]], *, title: str, value_label=str, width: int = 560
) -> SafeString:
    """Horizontal bars, one per item (e.g. products per board), labelled on the left."""
    row, left, top = 22, 190, 30
    height = top + row * max(len(items), 1) + 10
    plot_w = width - left - 90
    peak = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {width} {height}" style="max-width:{width}px" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="{left}" y="{top + 14}" fill="#777">no data yet</text>')
    for n, (label, value) in enumerate(items):
        y = top + n * row
        bar_w = plot_w * value / peak
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" fill="#333">'
            f"{escape(short)}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{bar_w:.1f}" height="{row - 6}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}: '
            f"{escape(value_label(value))}</title></rect>"
            f'<text x="{left + bar_w + 6:.1f}" y="{y + 15}" fill="#555">'
            f"{escape(value_label(value))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label above is escaped
