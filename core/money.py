"""Exact money: integer fen inside, yuan decimal strings at the edges.

Rates are integer basis points (1 bp = 0.01 %). Every division of money goes
through `apportion`, which rounds each share down to the fen and gives the
remainder to the last party, so the parts always add up to the whole.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import NewType

from django.utils.translation import gettext as _

Fen = NewType("Fen", int)
BPS_WHOLE = 10_000
FEN_PER_YUAN = 100
# 10^15 fen is far above any real trade and safely inside a signed 64-bit column.
MAX_FEN = 10**15


class MoneyError(ValueError):
    """A money value that cannot be represented exactly."""


# The one spelling of a yuan amount: ASCII digits, an optional minus, and at
# most two decimals after a point that has digits on both sides ("12.34").
_YUAN_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)
# 13 integer digits hold MAX_FEN; longer text is refused before any arithmetic.
_MAX_YUAN_DIGITS = 13


def yuan_to_fen(value: str | Decimal | int) -> Fen:
    """Parse a yuan amount ("12.34") into fen.

    Text must be a plain decimal: no exponent, sign "+", spaces, underscores,
    full-width digits, "12." or ".5", so one amount has one spelling. A
    Decimal (from a form's DecimalField) is bounded before it is multiplied,
    so no exponent can overflow the arithmetic.
    """
    if isinstance(value, bool | float):
        raise MoneyError(_("amounts must be given as decimal strings, not floating point numbers"))
    if isinstance(value, int):
        fen = value * FEN_PER_YUAN
    elif isinstance(value, str):
        if not _YUAN_TEXT.fullmatch(value):
            raise MoneyError(
                _(
                    "'%(value)s' is not a yuan amount: write digits with "
                    'at most two decimals, such as "12.34"'
                )
                % {"value": value[:40]}
            )
        if len(value.lstrip("-").split(".")[0].lstrip("0")) > _MAX_YUAN_DIGITS:
            raise MoneyError(_("amount is too large"))
        fen = int(Decimal(value) * FEN_PER_YUAN)
        if Decimal(value) * FEN_PER_YUAN != fen:
            raise MoneyError(_("amounts have at most two decimal places (whole fen)"))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(_("'%(value)s' is not a finite amount") % {"value": value})
        if value and value.adjusted() >= _MAX_YUAN_DIGITS:
            raise MoneyError(_("amount is too large"))
        exponent = value.as_tuple().exponent
        # A finite Decimal has an int exponent; the letters are for NaN and infinity.
        if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
            raise MoneyError(_("amounts have at most two decimal places (whole fen)"))
        fen = int(value * FEN_PER_YUAN)
    else:
        raise MoneyError(_("'%(value)s' is not a decimal amount") % {"value": value})
    if abs(fen) > MAX_FEN:
        raise MoneyError(_("amount is too large"))
    return Fen(fen)


def fen_to_yuan(fen: int) -> str:
    """Format fen as a yuan decimal string with exactly two places."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(int(fen)), FEN_PER_YUAN)
    return f"{sign}{whole}.{part:02d}"


def bps_of(amount_fen: int, bps: int) -> Fen:
    """The share of `amount_fen` at `bps` basis points, rounded down to the fen."""
    if amount_fen < 0 or bps < 0:
        raise MoneyError(_("shares are taken of non-negative amounts at non-negative rates"))
    return Fen(amount_fen * bps // BPS_WHOLE)


@dataclass(frozen=True)
class Split:
    gross_fen: int
    fee_fen: int
    share_fen: int
    net_fen: int


def apportion(gross_fen: int, *, fee_bps: int, share_bps: int) -> Split:
    """Split a trade's gross into exchange fee, department share and seller net.

    The rounding rule: the fee and the share are each rounded down to the fen
    (floor of gross * bps / 10000); the seller's net is what remains. So
    gross == fee + share + net exactly, and each part is >= 0 whenever the
    two rates together do not exceed 100 %. Clearing's SQL uses the same
    integer division, which floors for non-negative operands.
    """
    if fee_bps + share_bps > BPS_WHOLE:
        raise MoneyError(_("fee and department share together exceed 100 %"))
    fee = bps_of(gross_fen, fee_bps)
    share = bps_of(gross_fen, share_bps)
    return Split(gross_fen, fee, share, gross_fen - fee - share)
