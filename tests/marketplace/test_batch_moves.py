"""Set-based order moves: owned by marketplace, allowed by ORDER_TRANSITIONS, recorded."""

import datetime as dt

import pytest
from django.utils import timezone

from core.exceptions import InvalidTransition
from core.transitions import transition_check
from marketplace.choices import ORDER_TRANSITIONS, OrderStatus
from marketplace.models import Order, OrderEvent
from marketplace.services.batch_moves import SET_BASED_MOVES, orders_clear, orders_settle
from settlements.models import Payout
from settlements.services.clearing import clearing_run_for_day
from settlements.services.payouts import clearing_batch_confirm, payout_mark_paid
from tests.factories.marketplace import accepted
from tests.factories.products import PlanFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders


@pytest.mark.parametrize("move", SET_BASED_MOVES, ids=lambda m: f"{m.source}->{m.target}")
def test_every_set_based_move_is_allowed_by_the_order_transitions(move):
    assert move.target in ORDER_TRANSITIONS[move.source]


def test_the_check_the_set_based_moves_run_refuses_a_move_the_table_lacks():
    # accepted -> settled skips clearing: not in ORDER_TRANSITIONS
    with pytest.raises(InvalidTransition):
        transition_check(
            Order,
            current=OrderStatus.ACCEPTED,
            to=OrderStatus.SETTLED,
            transitions=ORDER_TRANSITIONS,
        )


@pytest.mark.django_db
def test_a_traded_day_records_only_moves_the_table_allows(operator, settings):
    # given orders that went through the trading services and were accepted yesterday
    settings.EXCHANGE_PAYOUT_MINIMUM_FEN = 0
    default_fee(300)
    plan = PlanFactory(price_fen=12_34)
    orders = [accepted(plan=plan) for _ in range(3)]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        accepted_at=timezone.now() - dt.timedelta(days=1)
    )
    # when the day is cleared, confirmed and every payout paid
    batch = clearing_batch_confirm(
        actor=operator, batch=clearing_run_for_day(business_date=yesterday)
    )
    for payout in Payout.objects.filter(batch=batch, status="pending"):
        payout_mark_paid(actor=operator, payout=payout, bank_reference="BOC-9")
    # then every order is settled and each recorded move is in ORDER_TRANSITIONS
    events = OrderEvent.objects.filter(subject__in=orders)
    assert set(
        Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    ) == {OrderStatus.SETTLED}
    moves = set(events.exclude(from_status="").values_list("from_status", "to_status"))
    assert (OrderStatus.ACCEPTED, OrderStatus.CLEARED) in moves
    assert (OrderStatus.CLEARED, OrderStatus.SETTLED) in moves
    for source, target in moves:
        assert source == target or target in ORDER_TRANSITIONS[source], (source, target)
    assert set(events.filter(from_status="").values_list("to_status", flat=True)) == {
        OrderStatus.PENDING_PAYMENT
    }
    settled = events.filter(to_status=OrderStatus.SETTLED)
    assert settled.count() == 3
    assert set(settled.values_list("actor", flat=True)) == {operator.pk}


@pytest.mark.django_db
def test_clearing_a_range_twice_moves_each_order_once():
    # given a past day with four accepted orders, one of them disputed
    day = a_past_day()
    orders = make_accepted_orders(day=day, count=4, pay=False)
    Order.objects.filter(pk=orders[0].pk).update(is_disputed=True)
    batch = clearing_run_for_day(business_date=day)
    # (the run cleared the three undisputed ones; the disputed one stays accepted)
    first, last = min(o.pk for o in orders), max(o.pk for o in orders)
    # when the same range is cleared again
    moved = orders_clear(
        batch_id=batch.pk,
        business_date=day,
        first_id=first,
        last_id=last,
        now=timezone.now(),
        reason="again",
    )
    # then nothing moves and no event is added
    assert moved == 0
    assert OrderEvent.objects.filter(reason="again").count() == 0
    statuses = dict(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("pk", "status"))
    assert statuses[orders[0].pk] == OrderStatus.ACCEPTED
    assert [statuses[o.pk] for o in orders[1:]] == [OrderStatus.CLEARED] * 3

    # and settling the batch twice settles the three once
    def settle() -> int:
        return orders_settle(
            batch_id=batch.pk,
            business_date=batch.business_date,
            actor=None,
            now=timezone.now(),
            reason="paid",
        )

    assert settle() == 3
    assert settle() == 0
    assert OrderEvent.objects.filter(to_status=OrderStatus.SETTLED).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db
def test_clearing_and_settling_rewrite_the_orders_in_place(operator, settings):
    # No indexed column changes when a day clears or settles, and the order
    # pages keep room, so PostgreSQL's updates are heap-only (HOT): no index of
    # the order table grows by a million entries a night.
    from django.db import connection

    def hot_updates() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
                " WHERE relname = 'marketplace_order'"
            )
            return cursor.fetchone()

    settings.EXCHANGE_PAYOUT_MINIMUM_FEN = 0
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(day=day, count=12)
    updated, hot = hot_updates()
    batch = clearing_run_for_day(business_date=day)
    after_clearing = hot_updates()
    assert after_clearing == (updated + 12, hot + 12)
    batch = clearing_batch_confirm(actor=operator, batch=batch)
    for payout in Payout.objects.filter(batch=batch, status="pending"):
        payout_mark_paid(actor=operator, payout=payout, bank_reference="BOC-10")
    assert set(
        Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    ) == {OrderStatus.SETTLED}
    assert hot_updates() == (after_clearing[0] + 12, after_clearing[1] + 12)
