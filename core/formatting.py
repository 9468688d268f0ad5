"""How people read the exchange's figures: yuan, data sizes, local times, CSV files.

Everything a person reads (admin lists and details, dashboards, CSV downloads)
goes through these helpers, so one amount has one spelling everywhere:

- money: integer fen in, "¥1,234.56" out, by integer arithmetic only;
- data sizes: decimal (SI) units, 1 KB = 1,000 bytes, 1 TB = 10^12 bytes,
  as storage vendors and the exchange's annual report count them;
  rounded half up to two decimals ("1.99 TB", never "1 TB" for 1.99 TB);
- times: Asia/Shanghai wall-clock text, whatever zone the value carries;
- CSV: UTF-8 with a byte-order mark, so Excel opens Chinese text correctly,
  headers in the reader's language (`pgettext("CSV column", ...)`), statuses
  and kinds as their labels (`choice_label`), money through `format_yuan`
  and times written as local wall-clock text.

The API keeps its own edge format (yuan decimal strings, ISO times, bytes);
this module is for people.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Choices
from django.http import HttpResponse

from core.money import FEN_PER_YUAN

EXCHANGE_TZ = ZoneInfo("Asia/Shanghai")
# What a list or detail shows where a value is absent (Django admin's own default).
EMPTY = "-"
UTF8_BOM = "\ufeff"

_DECIMAL_UNITS = ("B", "KB", "MB", "GB", "TB", "PB", "EB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_HUNDREDTH = Decimal("0.01")


def format_yuan(fen: int | None, *, symbol: bool = True) -> str:
    """Fen as yuan with thousands separators: 123456 -> "¥1,234.56", -5 -> "-¥0.05".

    None (an amount not set, such as a plan without a unit price) reads as "-".
    """
    if fen is None:
        return EMPTY
    if isinstance(fen, bool) or not isinstance(fen, int):
        # A float or a Decimal here means money left the integer path somewhere.
        raise TypeError(f"amounts are integer fen, not {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{'¥' if symbol else ''}{whole:,}.{part:02d}"


def format_data_size(size: int | None, *, binary: bool = False) -> str:
    """A byte count in the largest unit that keeps the figure at least 1.

    Decimal units by default (1 TB = 10^12 bytes); `binary=True` gives KiB,
    MiB... of 1,024. Two decimals, rounded half up, trailing zeros dropped:
    1,990,000,000,000 -> "1.99 TB"; 1,500 -> "1.5 KB"; 999,999 -> "1 MB"
    (a figure that rounds up to 1,000 moves to the next unit).
    """
    if size is None:
        return EMPTY
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"sizes are integer bytes, not {type(size).__name__}")
    base = 1024 if binary else 1000
    units = _BINARY_UNITS if binary else _DECIMAL_UNITS
    sign = "-" if size < 0 else ""
    size = abs(size)
    if size < base:
        return f"{sign}{size:,} B"
    exponent = 0
    while exponent + 1 < len(units) and size >= base ** (exponent + 1):
        exponent += 1
    value = (Decimal(size) / Decimal(base**exponent)).quantize(_HUNDREDTH, ROUND_HALF_UP)
    if value >= base and exponent + 1 < len(units):
        exponent += 1
        value = (Decimal(size) / Decimal(base**exponent)).quantize(_HUNDREDTH, ROUND_HALF_UP)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{sign}{text} {units[exponent]}"


def local_datetime(value: dt.datetime) -> dt.datetime:
    """The same instant on Shanghai's clock; a naive value is taken as already local."""
    if value.tzinfo is None:
        return value.replace(tzinfo=EXCHANGE_TZ)
    return value.astimezone(EXCHANGE_TZ)


def format_datetime(value: dt.datetime | None, *, seconds: bool = False) -> str:
    """ "2026-12-02 18:44" on Shanghai's clock (Excel reads this spelling as a time)."""
    if value is None:
        return EMPTY
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return local_datetime(value).strftime(pattern)


def choice_label(choices: type[Choices], value: str | None) -> str:
    """A stored choice as people read it ("paid" -> "已支付"); an unknown value as it is."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def csv_cell(value: Any) -> Any:
    """One CSV cell: times on Shanghai's clock, dates ISO, None empty."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return format_datetime(value, seconds=True)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return value


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """Rows (the first usually a header) as CSV text, each cell through `csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def csv_response(
    content: str | Iterable[Sequence[Any]], filename: str, *, bom: bool = True
) -> HttpResponse:
    """A CSV download: UTF-8, with a byte-order mark unless a machine reads the file.

    Excel takes a UTF-8 file without a BOM for the local ANSI code page and
    shows Chinese as mojibake, so every file people open gets one. `content`
    is CSV text already written, or rows for `csv_text`.
    """
    text = content if isinstance(content, str) else csv_text(content)
    if bom and not text.startswith(UTF8_BOM):
        text = UTF8_BOM + text
    response = HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
