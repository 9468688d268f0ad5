"""Fee schedules: the exchange's commission by board and delivery mode, effective-dated.

The rounding rule is core.money.apportion: the exchange fee and the
department share are each floored to the fen, the seller's net is the
remainder, so gross == fee + share + net exactly and every part is >= 0.
Clearing's SQL computes the same numbers (see `split_sql`).
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation
from core.money import BPS_WHOLE, Split, apportion
from products.choices import DeliveryMode
from settlements.models import FeeSchedule

ANY_BOARD = 0  # board ids start at 1; 0 stands for "any board" in the rate table


@dataclass(frozen=True)
class Rate:
    board_id: int  # ANY_BOARD for any
    delivery_mode: str  # "" for any
    fee_bps: int


def _effective_bps(*, fee_bps: int, share_bps: int) -> tuple[int, int]:
    """The rates actually applied: the department's share (from its grant) comes first.

    A share above 100 % is capped at 100 %; a fee that would take the two past
    100 % is cut to what is left, so the seller's net never goes negative.
    """
    share = min(max(share_bps, 0), BPS_WHOLE)
    fee = min(max(fee_bps, 0), BPS_WHOLE - share)
    return fee, share


def order_split(*, gross_fen: int, fee_bps: int, share_bps: int) -> Split:
    """What clearing posts for one order (the Python twin of the clearing SQL)."""
    fee, share = _effective_bps(fee_bps=fee_bps, share_bps=share_bps)
    return apportion(gross_fen, fee_bps=fee, share_bps=share)


def rates_in_force(day: dt.date) -> list[Rate]:
    """The rate of each (board, mode) key in force on `day`: the latest start wins."""
    rows = (
        FeeSchedule.objects.filter(effective_from__lte=day)
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gt=day))
        .order_by("effective_from", "id")
        .values_list("board_id", "delivery_mode", "fee_bps")
    )
    latest: dict[tuple[int, str], int] = {}
    for board_id, mode, bps in rows:
        latest[(board_id or ANY_BOARD, mode or "")] = bps
    return [Rate(board, mode, bps) for (board, mode), bps in sorted(latest.items())]


def fee_bps_for(*, board_id: int | None, delivery_mode: str, day: dt.date) -> int:
    """The most specific rate for an order: board+mode, board, mode, then the default; else 0."""
    table = {(r.board_id, r.delivery_mode): r.fee_bps for r in rates_in_force(day)}
    board = board_id or ANY_BOARD
    for key in ((board, delivery_mode), (board, ""), (ANY_BOARD, delivery_mode), (ANY_BOARD, "")):
        if key in table:
            return table[key]
    return 0


def _check(*, fee_bps: int, delivery_mode: str, effective_from, effective_until) -> None:
    if not 0 <= fee_bps <= BPS_WHOLE:
        raise BusinessRuleViolation(_("give a rate between 0 and 10000 bps"), field="fee_bps")
    if delivery_mode and delivery_mode not in DeliveryMode.values:
        raise BusinessRuleViolation(_("unknown delivery mode"), field="delivery_mode")
    if effective_until is not None and effective_until <= effective_from:
        raise BusinessRuleViolation(
            _("must be after the first day in force"), field="effective_until"
        )


def _unique(*, board, delivery_mode: str, effective_from, exclude_pk=None) -> None:
    clash = FeeSchedule.objects.filter(
        board=board, delivery_mode=delivery_mode, effective_from=effective_from
    ).exclude(pk=exclude_pk)
    if clash.exists():
        raise BusinessRuleViolation(
            _("a rate for this board and delivery mode already starts on this day"),
            field="effective_from",
            code="unique",
        )


@transaction.atomic
def fee_schedule_create(
    *,
    actor: User,
    fee_bps: int,
    effective_from: dt.date,
    board=None,
    delivery_mode: str = "",
    effective_until: dt.date | None = None,
    note: str = "",
) -> FeeSchedule:
    """Add a rate. Invariant: one row per (board, mode, first day); 0 <= bps <= 10000."""
    _check(
        fee_bps=fee_bps,
        delivery_mode=delivery_mode,
        effective_from=effective_from,
        effective_until=effective_until,
    )
    _unique(board=board, delivery_mode=delivery_mode, effective_from=effective_from)
    return FeeSchedule.objects.create(
        board=board,
        delivery_mode=delivery_mode,
        fee_bps=fee_bps,
        effective_from=effective_from,
        effective_until=effective_until,
        note=note,
    )


@transaction.atomic
def fee_schedule_update(*, actor: User, schedule: FeeSchedule, **changes) -> FeeSchedule:
    """Edit a rate. Days already cleared keep the fees they were cleared with (postings)."""
    allowed = {"board", "delivery_mode", "fee_bps", "effective_from", "effective_until", "note"}
    unknown = set(changes) - allowed
    if unknown:
        raise BusinessRuleViolation(
            _("these fields cannot be changed: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    schedule = FeeSchedule.objects.select_for_update().get(pk=schedule.pk)
    for field, value in changes.items():
        setattr(schedule, field, value)
    _check(
        fee_bps=schedule.fee_bps,
        delivery_mode=schedule.delivery_mode,
        effective_from=schedule.effective_from,
        effective_until=schedule.effective_until,
    )
    _unique(
        board=schedule.board,
        delivery_mode=schedule.delivery_mode,
        effective_from=schedule.effective_from,
        exclude_pk=schedule.pk,
    )
    schedule.save(update_fields=[*changes, "updated_at"])
    return schedule
