# Only table names taken from the models and status values taken from
# OrderStatus are interpolated; every other value travels as a parameter.
# ruff: noqa: S608
"""Set-based order moves: one statement for a whole chunk or batch of orders.

Settlements clears a business day's accepted orders and settles a batch's
cleared ones. Those moves change marketplace's tables, so marketplace owns
them: settlements calls `orders_clear` and `orders_settle` and never writes an
order or an order event itself. Each move is listed in SET_BASED_MOVES and is
checked against ORDER_TRANSITIONS before its statement runs, like every
row-at-a-time move; each records one OrderEvent per order it moves.
"""

import datetime as dt
from typing import NamedTuple

from django.db import connection

from accounts.models import User
from core.filters import local_day_start
from core.sql import analyze
from core.transitions import transition_check
from marketplace.choices import ORDER_TRANSITIONS, OrderStatus
from marketplace.models import Order, OrderEvent


class SetMove(NamedTuple):
    """A status move made by one statement over many orders."""

    source: OrderStatus
    target: OrderStatus


CLEARING = SetMove(OrderStatus.ACCEPTED, OrderStatus.CLEARED)
SETTLING = SetMove(OrderStatus.CLEARED, OrderStatus.SETTLED)
SET_BASED_MOVES: tuple[SetMove, ...] = (CLEARING, SETTLING)

ORDER = Order._meta.db_table
ORDER_EVENT = OrderEvent._meta.db_table

# The orders a clearing batch takes: that local day's accepted, undisputed,
# uncleared orders. Parameters: day_start, day_end and false (see clearable_params).
CLEARABLE = f"""
    {ORDER}.status = '{CLEARING.source.value}'
    AND {ORDER}.accepted_at >= %(day_start)s AND {ORDER}.accepted_at < %(day_end)s
    AND {ORDER}.is_disputed = %(false)s
    AND {ORDER}.clearing_batch_id IS NULL
"""
_CLEARABLE_IN_RANGE = f"{ORDER}.id BETWEEN %(first_id)s AND %(last_id)s AND {CLEARABLE}"
_MARK_CLEARED = f"""
    status = '{CLEARING.target.value}', clearing_batch_id = %(batch_id)s,
    cleared_at = %(now)s, updated_at = %(now)s
"""
_EVENT_COLUMNS = "(subject_id, actor_id, from_status, to_status, reason, created_at)"

# PostgreSQL: move the orders and record exactly the rows moved, in one statement.
# The UPDATE re-checks its WHERE on rows another transaction changed meanwhile
# (a dispute opened a moment ago), so an order never clears after leaving 'accepted'.
_PG_CLEAR = f"""
WITH moved AS (
    UPDATE {ORDER} SET {_MARK_CLEARED} WHERE {_CLEARABLE_IN_RANGE} RETURNING id
)
INSERT INTO {ORDER_EVENT} {_EVENT_COLUMNS}
SELECT id, NULL, '{CLEARING.source.value}', '{CLEARING.target.value}', %(reason)s, %(now)s
FROM moved
"""
# SQLite has no data-modifying CTEs but serialises writers: the caller's
# transaction already holds the write lock, so what the first statement
# selects is exactly what the second then updates.
_LITE_CLEAR_EVENTS = f"""
INSERT INTO {ORDER_EVENT} {_EVENT_COLUMNS}
SELECT id, NULL, '{CLEARING.source.value}', '{CLEARING.target.value}', %(reason)s, %(now)s
FROM {ORDER} WHERE {_CLEARABLE_IN_RANGE}
"""
_LITE_CLEAR = f"UPDATE {ORDER} SET {_MARK_CLEARED} WHERE {_CLEARABLE_IN_RANGE}"

# A batch's orders: each was accepted on the batch's day (CLEARABLE), so the
# acceptance-time index finds them; the batch itself is not indexed.
BATCH_ORDERS = f"""
    {ORDER}.accepted_at >= %(day_start)s AND {ORDER}.accepted_at < %(day_end)s
    AND {ORDER}.clearing_batch_id = %(batch_id)s
"""
# A cleared order has no move left but settling (no refund, no dispute), and
# the caller holds the batch lock, so the two statements see the same rows.
_SETTLE_EVENTS = f"""
INSERT INTO {ORDER_EVENT} {_EVENT_COLUMNS}
SELECT id, %(actor_id)s, '{SETTLING.source.value}', '{SETTLING.target.value}',
       %(reason)s, %(now)s
FROM {ORDER}
WHERE {BATCH_ORDERS} AND status = '{SETTLING.source.value}'
"""
_SETTLE = f"""
UPDATE {ORDER} SET status = '{SETTLING.target.value}', settled_at = %(now)s, updated_at = %(now)s
WHERE {BATCH_ORDERS} AND status = '{SETTLING.source.value}'
"""


def _db_time(value: dt.datetime):
    """A datetime as the backend stores it (SQLite keeps naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _check(move: SetMove) -> None:
    transition_check(Order, current=move.source, to=move.target, transitions=ORDER_TRANSITIONS)


def clearable_params(business_date: dt.date) -> dict:
    """The parameters CLEARABLE needs for one business day (Asia/Shanghai)."""
    return {
        "day_start": _db_time(local_day_start(business_date)),
        "day_end": _db_time(local_day_start(business_date + dt.timedelta(days=1))),
        "false": False,
    }


def orders_clear(
    *,
    batch_id: int,
    business_date: dt.date,
    first_id: int,
    last_id: int,
    now: dt.datetime,
    reason: str,
) -> int:
    """accepted -> cleared for the day's clearable orders with ids first_id..last_id.

    Runs inside the caller's transaction (a clearing chunk's): the orders take
    the batch id, and each gets its event. Returns how many orders moved; a
    second call for the same range moves none, because cleared orders are no
    longer clearable.
    """
    _check(CLEARING)
    params = {
        **clearable_params(business_date),
        "first_id": first_id,
        "last_id": last_id,
        "batch_id": batch_id,
        "now": _db_time(now),
        "reason": reason,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_CLEAR, params)
        else:
            cursor.execute(_LITE_CLEAR_EVENTS, params)
            cursor.execute(_LITE_CLEAR, params)
        return cursor.rowcount


def orders_settle(
    *, batch_id: int, business_date: dt.date, actor: User | None, now: dt.datetime, reason: str
) -> int:
    """cleared -> settled for every order of a clearing batch; returns how many moved.

    The caller holds the batch's lock and has checked that no payout of the
    batch is pending. A second call moves none.
    """
    _check(SETTLING)
    params = {
        **clearable_params(business_date),
        "batch_id": batch_id,
        "now": _db_time(now),
        "actor_id": actor.pk if actor is not None and actor.pk else None,
        "reason": reason,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SETTLE_EVENTS, params)
        cursor.execute(_SETTLE, params)
        return cursor.rowcount


def orders_statistics_refresh() -> None:
    """ANALYZE the orders and their events once a day has moved (PostgreSQL).

    A cleared day leaves the planner's statistics saying its orders are still
    accepted, so the next look for clearable orders (a re-run, the next day's
    plan) reads the whole table in sequence expecting a match at once, instead
    of the index that shows there is none.
    """
    analyze(ORDER, ORDER_EVENT)
