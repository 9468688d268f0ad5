import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from core.formatting import (
    UTF8_BOM,
    csv_response,
    csv_text,
    format_data_size,
    format_datetime,
    format_yuan,
)
from core.money import MAX_FEN, yuan_to_fen


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (123456, "¥1,234.56"),
        (120_000_000_000, "¥1,200,000,000.00"),
        (-5, "-¥0.05"),
        (-123456789, "-¥1,234,567.89"),
        (None, "-"),
    ],
)
def test_fen_read_as_yuan_with_symbol_and_separators(fen, text):
    assert format_yuan(fen) == text


@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_yuan_text_is_exact_for_any_amount(fen):
    # given any amount in fen, when shown, then the text parses back to the same fen
    text = format_yuan(fen).replace("¥", "").replace(",", "")
    whole, part = text.lstrip("-").split(".")
    assert (-1 if fen < 0 else 1) * (int(whole) * 100 + int(part)) == fen
    if abs(fen) < 10**14:
        assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("bad", [1.5, "100", True])
def test_money_that_is_not_integer_fen_is_refused(bad):
    with pytest.raises(TypeError):
        format_yuan(bad)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1_000, "1 KB"),
        (1_500, "1.5 KB"),
        (1_990_000_000_000, "1.99 TB"),
        (1_994_999_999_999, "1.99 TB"),
        (1_995_000_000_000, "2 TB"),
        (999_999, "1 MB"),
        (999_994_999, "999.99 MB"),
        (2_150_400_000_000_000, "2.15 PB"),
        (5 * 10**21, "5,000 EB"),
        (-1_500, "-1.5 KB"),
        (None, "-"),
    ],
)
def test_data_sizes_in_decimal_units_rounded_half_up(size, text):
    assert format_data_size(size) == text


def test_binary_sizes_use_the_binary_unit_names():
    assert format_data_size(1024, binary=True) == "1 KiB"
    assert format_data_size(1536 * 1024**3, binary=True) == "1.5 TiB"
    assert format_data_size(1000, binary=True) == "1,000 B"


def test_times_read_on_shanghai_clock_whatever_zone_they_carry():
    instant = dt.datetime(2026, 12, 2, 18, 44, 5, tzinfo=dt.UTC)
    assert format_datetime(instant) == "2026-12-03 02:44"
    assert format_datetime(instant, seconds=True) == "2026-12-03 02:44:05"
    new_york = instant.astimezone(ZoneInfo("America/New_York"))
    assert format_datetime(new_york) == "2026-12-03 02:44"
    assert format_datetime(None) == "-"


def test_csv_text_writes_local_times_and_empty_none():
    instant = dt.datetime(2026, 1, 31, 16, 30, tzinfo=dt.UTC)
    text = csv_text([["at", "day", "memo"], [instant, dt.date(2026, 2, 1), None]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["at", "day", "memo"],
        ["2026-02-01 00:30:00", "2026-02-01", ""],
    ]


def test_csv_download_has_a_bom_for_excel_and_only_one():
    # given rows with Chinese text, when downloaded
    response = csv_response([["名称"], ["长沙市数据公司"]], "x.csv")
    again = csv_response(UTF8_BOM + "a\r\n", "y.csv")
    # then the body is UTF-8 starting with one BOM, named as an attachment
    assert response.content.startswith(b"\xef\xbb\xbf\xe5\x90\x8d")
    assert response.content.decode("utf-8-sig") == "名称\r\n长沙市数据公司\r\n"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert again.content.count(b"\xef\xbb\xbf") == 1


def test_a_machine_file_can_go_without_bom():
    assert csv_response("a,b\r\n", "bank.csv", bom=False).content == b"a,b\r\n"


def test_template_filters_format_for_the_admin():
    template = Template(
        "{% load exchange_format %}{{ fen|yuan }} {{ none|yuan }} {{ size|data_size }} "
        "{{ at|local_time }} {{ at|local_time:'s' }}"
    )
    at = dt.datetime(2026, 12, 2, 0, 0, 9, tzinfo=dt.UTC)
    text = template.render(Context({"fen": 1234567, "none": None, "size": 1_990_000, "at": at}))
    assert text == "¥12,345.67 - 1.99 MB 2026-12-02 08:00 2026-12-02 08:00:09"
