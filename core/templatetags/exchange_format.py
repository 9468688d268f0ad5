"""Template filters for the admin: `{% load exchange_format %}` then
`{{ order.amount_fen|yuan }}`, `{{ product.volume_bytes|data_size }}`,
`{{ event.created_at|local_time }}`. Each goes through core.formatting."""

from django import template

from core.formatting import format_data_size, format_datetime, format_yuan

register = template.Library()


@register.filter
def yuan(fen):
    """Integer fen as "¥1,234.56"; anything else (None, "") as "-"."""
    if isinstance(fen, int) and not isinstance(fen, bool):
        return format_yuan(fen)
    return format_yuan(None)


@register.filter
def data_size(size):
    if isinstance(size, int) and not isinstance(size, bool):
        return format_data_size(size)
    return format_data_size(None)


@register.filter
def local_time(value, seconds=""):
    """A datetime on Shanghai's clock, "2026-12-02 18:44" (`|local_time:"s"` adds seconds)."""
    if value is None or value == "":
        return format_datetime(None)
    return format_datetime(value, seconds=bool(seconds))
