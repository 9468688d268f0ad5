from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import MoneyError, apportion, fen_to_yuan, yuan_to_fen


@pytest.mark.parametrize(
    ("text", "fen"), [("12.34", 1234), ("0.01", 1), ("100", 10000), (Decimal("7.5"), 750)]
)
def test_yuan_strings_become_exact_fen(text, fen):
    assert yuan_to_fen(text) == fen
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


@pytest.mark.parametrize("bad", ["1.234", "abc", "NaN", "Infinity", 1.5])
def test_inexact_amounts_are_refused(bad):
    with pytest.raises(MoneyError):
        yuan_to_fen(bad)


@settings(max_examples=2000)
@given(
    gross=st.integers(min_value=0, max_value=10**13),
    fee_bps=st.integers(min_value=0, max_value=5000),
    share_bps=st.integers(min_value=0, max_value=5000),
)
def test_apportion_parts_always_add_up(gross, fee_bps, share_bps):
    split = apportion(gross, fee_bps=fee_bps, share_bps=share_bps)
    assert split.fee_fen + split.share_fen + split.net_fen == gross
    assert min(split.fee_fen, split.share_fen, split.net_fen) >= 0
