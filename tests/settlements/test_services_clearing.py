import datetime as dt

import pytest
from django.db import DatabaseError
from django.utils import timezone

from core.exceptions import BusinessRuleViolation, Conflict
from marketplace.models import Order
from settlements.choices import AccountKind, ClearingStatus
from settlements.models import ClearingBatch, ClearingChunk, Posting
from settlements.services import clearing, clearing_sql
from settlements.services.clearing import (
    clearing_batch_finalize,
    clearing_chunk_run,
    clearing_prepare,
    clearing_run_for_day,
)
from settlements.services.ledger import account_get, exchange_account
from tests.factories.accounts import MerchantFactory
from tests.factories.products import BoardFactory
from tests.factories.publicdata import DepartmentFactory
from tests.factories.settlements import a_past_day, at_local, default_fee, make_accepted_orders
from tests.settlements.ledger_checks import (
    assert_balances_equal_postings,
    assert_cleared_once,
    assert_totals_are_the_ledgers,
    clearing_lines,
    expected_lines,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_of_trades(db):
    """A past business day: 23 orders over 3 sellers and 2 buyers, some with a
    department share, some refunded in part, one refunded in full."""
    default_fee(300)
    day = a_past_day()
    sellers = [MerchantFactory() for _ in range(3)]
    buyers = [MerchantFactory() for _ in range(2)]
    department = DepartmentFactory()
    orders = make_accepted_orders(
        day=day, count=15, sellers=sellers, buyers=buyers, refunds=[0, 0, 999]
    )
    orders += make_accepted_orders(
        day=day, count=7, sellers=sellers, buyers=buyers, department=department, share_bps=1500
    )
    orders += make_accepted_orders(
        day=day, count=1, sellers=sellers, buyers=buyers, amounts=[5000], refunds=[5000]
    )
    return day, orders


def test_a_day_clears_every_order_once_with_the_rounding_rule(day_of_trades):
    # given a day of accepted orders
    day, orders = day_of_trades
    # when it is cleared in chunks of 4 orders
    batch = clearing_run_for_day(business_date=day, chunk_size=4)
    # then every order is cleared once, posted as the rounding rule says, totals stored
    assert batch.status == ClearingStatus.COMPUTED
    assert batch.chunks.count() == 6
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert_balances_equal_postings()
    assert batch.order_count == 23
    gross = sum(o.amount_fen - o.refunded_fen for o in orders)
    assert batch.gross_fen == gross
    assert batch.fee_fen + batch.share_fen + batch.net_fen == gross
    assert batch.share_fen > 0
    # buyers' escrow holds nothing of these orders any more
    for buyer_id in {o.buyer_id for o in orders}:
        assert account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=buyer_id).balance_fen == 0


def test_running_a_day_twice_posts_nothing_the_second_time(day_of_trades):
    # given a cleared day
    day, orders = day_of_trades
    batch = clearing_run_for_day(business_date=day, chunk_size=5)
    postings = Posting.objects.count()
    # when it is run again
    again = clearing_run_for_day(business_date=day, chunk_size=5)
    # then nothing changes
    assert again.pk == batch.pk
    assert Posting.objects.count() == postings
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)


def test_a_crash_between_chunks_resumes_to_the_ledger_of_one_clean_run(day_of_trades):
    # given a run that cleared chunk 1 and then died
    day, orders = day_of_trades
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=5)
    clearing_chunk_run(chunk_id=chunk_ids[0])
    assert ClearingChunk.objects.filter(batch=batch, status="done").count() == 1
    # when the day is run again
    batch = clearing_run_for_day(business_date=day, chunk_size=5)
    # then the plan is resumed, not redone, and the ledger is that of one clean run
    assert batch.chunks.count() == len(chunk_ids)
    assert batch.status == ClearingStatus.COMPUTED
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)
    assert_balances_equal_postings()


def test_a_worker_killed_inside_a_chunk_leaves_no_trace_and_the_rerun_completes(
    day_of_trades, monkeypatch
):
    # given a chunk that dies after writing its postings, before its balances
    day, orders = day_of_trades
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=50)
    monkeypatch.setattr(clearing_sql, "APPLY_BALANCES", "SELECT no_such_column FROM clearing_work")
    with pytest.raises(DatabaseError):
        clearing_chunk_run(chunk_id=chunk_ids[0])
    # then nothing of it stayed
    assert not Posting.objects.filter(entry__clearing_batch=batch).exists()
    assert Order.objects.filter(pk__in=[o.pk for o in orders], status="accepted").count() == 23
    # when the worker comes back and the day is resumed
    monkeypatch.undo()
    batch = clearing_run_for_day(business_date=day)
    # then the ledger is one clean run's
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert_cleared_once(orders, batch)
    assert_totals_are_the_ledgers(batch)
    assert_balances_equal_postings()


def test_only_the_days_accepted_undisputed_uncleared_orders_are_taken(db):
    # given orders of the day in every state, and orders of the days around it
    default_fee(300)
    day = a_past_day()
    seller, buyer = MerchantFactory(), MerchantFactory()
    kw = {"sellers": [seller], "buyers": [buyer]}
    taken = make_accepted_orders(day=day, count=2, **kw)
    disputed = make_accepted_orders(day=day, count=1, is_disputed=True, **kw)
    delivered = make_accepted_orders(day=day, count=1, **kw)
    Order.objects.filter(pk=delivered[0].pk).update(status="delivered")
    before = make_accepted_orders(day=day - dt.timedelta(days=1), count=1, **kw)
    after = make_accepted_orders(day=day + dt.timedelta(days=1), count=1, **kw)
    # an order accepted at 23:59 local belongs to the day, one at 00:00 next day does not
    edge = make_accepted_orders(day=day, count=1, **kw)
    Order.objects.filter(pk=edge[0].pk).update(accepted_at=at_local(day, 23, 59))
    # when the day clears
    batch = clearing_run_for_day(business_date=day)
    # then only the day's accepted, undisputed orders are cleared
    cleared = set(Order.objects.filter(clearing_batch=batch).values_list("pk", flat=True))
    assert cleared == {o.pk for o in taken + edge}
    for order in disputed + before + after:
        order.refresh_from_db()
        assert order.status == "accepted"
        assert order.clearing_batch_id is None


def test_a_later_rerun_picks_up_orders_released_after_the_first_run(db):
    # given a computed day where one order was held back by a dispute
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(day=day, count=3)
    Order.objects.filter(pk=orders[0].pk).update(is_disputed=True)
    batch = clearing_run_for_day(business_date=day)
    assert batch.order_count == 2
    # when the dispute is closed and the day is re-run
    Order.objects.filter(pk=orders[0].pk).update(is_disputed=False)
    batch = clearing_run_for_day(business_date=day)
    # then the order is cleared into the same batch and the totals cover it
    assert batch.status == ClearingStatus.COMPUTED
    assert batch.order_count == 3
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert_totals_are_the_ledgers(batch)
    assert [e.to_status for e in batch.events.all()] == [
        "running", "computed", "running", "computed"
    ]  # fmt: skip


def test_the_most_specific_fee_in_force_applies(db):
    # given a default rate, a board rate, a mode rate and a board+mode rate
    day = a_past_day()
    board, other_board = BoardFactory(), BoardFactory()
    default_fee(300)
    default_fee(200, board=board)
    default_fee(100, delivery_mode="report")
    default_fee(50, board=board, delivery_mode="report")
    # a newer default starting after the day does not apply yet
    default_fee(900, effective_from=day + dt.timedelta(days=1))
    exact = make_accepted_orders(day=day, count=1, board=board, delivery_mode="report")
    on_board = make_accepted_orders(day=day, count=1, board=board, delivery_mode="api")
    by_mode = make_accepted_orders(day=day, count=1, board=other_board, delivery_mode="report")
    plain = make_accepted_orders(day=day, count=1, board=None, delivery_mode="file")
    # when the day clears
    batch = clearing_run_for_day(business_date=day)
    # then each order pays its most specific rate
    fees = dict(
        Posting.objects.filter(
            entry__clearing_batch=batch, account__kind=AccountKind.EXCHANGE_FEE
        ).values_list("entry__order_id", "amount_fen")
    )
    for orders, bps in ((exact, 50), (on_board, 200), (by_mode, 100), (plain, 300)):
        assert fees[orders[0].pk] == orders[0].amount_fen * bps // 10_000


def test_a_fee_and_share_above_the_whole_leave_the_seller_nothing_but_never_less(db):
    # given a 60 % fee and a 70 % department share
    default_fee(6000)
    day = a_past_day()
    orders = make_accepted_orders(
        day=day, count=2, department=DepartmentFactory(), share_bps=7000, amounts=[10_001]
    )
    # when the day clears
    batch = clearing_run_for_day(business_date=day)
    # then the share is taken in full, the fee is cut to what is left, net >= 0
    assert clearing_lines(batch) == expected_lines(orders, day)
    assert batch.share_fen == 2 * (10_001 * 7000 // 10_000)
    assert batch.net_fen >= 0
    assert batch.fee_fen + batch.share_fen + batch.net_fen == batch.gross_fen


def test_an_empty_day_computes_a_batch_of_zeros(db):
    batch = clearing_run_for_day(business_date=a_past_day())
    assert batch.status == ClearingStatus.COMPUTED
    assert (batch.order_count, batch.gross_fen) == (0, 0)


def test_today_cannot_be_cleared_before_it_ends(db):
    with pytest.raises(BusinessRuleViolation) as caught:
        clearing_run_for_day(business_date=timezone.localdate())
    assert caught.value.field == "business_date"
    assert not ClearingBatch.objects.exists()


def test_a_confirmed_day_cannot_be_rerun(db):
    day = a_past_day()
    ClearingBatch.objects.create(business_date=day, status=ClearingStatus.CONFIRMED)
    with pytest.raises(Conflict):
        clearing_run_for_day(business_date=day)


def test_finalize_waits_for_every_chunk(day_of_trades):
    # given a plan of several chunks of which one is done
    day, _orders = day_of_trades
    batch, chunk_ids = clearing_prepare(business_date=day, chunk_size=5)
    clearing_chunk_run(chunk_id=chunk_ids[0])
    # when the finalizer runs early it does nothing
    assert clearing_batch_finalize(batch_id=batch.pk) is False
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.RUNNING
    # and once all are done it computes the batch
    for chunk_id in chunk_ids[1:]:
        clearing_chunk_run(chunk_id=chunk_id)
    assert clearing_batch_finalize(batch_id=batch.pk) is True
    assert clearing_batch_finalize(batch_id=batch.pk) is False


def test_previous_business_day_is_yesterday_in_shanghai():
    # 2026-03-01 16:30 UTC is 00:30 on 2 March in Shanghai
    now = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)
    assert clearing.previous_business_day(now) == dt.date(2026, 3, 1)


def test_the_fee_income_account_gets_every_fee(day_of_trades):
    day, _orders = day_of_trades
    before = exchange_account(AccountKind.EXCHANGE_FEE).balance_fen
    batch = clearing_run_for_day(business_date=day, chunk_size=3)
    assert exchange_account(AccountKind.EXCHANGE_FEE).balance_fen - before == batch.fee_fen


@pytest.mark.postgres
def test_a_cleared_day_leaves_the_orders_statistics_fresh(
    day_of_trades, django_capture_on_commit_callbacks
):
    # The planner must learn the day's orders are no longer accepted, or the next
    # look for clearable orders reads the whole table expecting one at once.
    from django.db import connection

    def analyzed(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s", [table]
            )
            return cursor.fetchone()[0]

    day, _orders = day_of_trades
    before = {table: analyzed(table) for table in ("marketplace_order", "settlements_posting")}
    with django_capture_on_commit_callbacks(execute=True):
        clearing_run_for_day(business_date=day, chunk_size=10)
    after = {table: analyzed(table) for table in before}
    assert all(after[table] == before[table] + 1 for table in before), (before, after)


def test_planning_a_day_opens_the_accounts_its_orders_need_and_only_those(day_of_trades):
    # given a day of accepted orders, one buyer already holding its escrow account,
    # and a merchant and a department with no order that day
    from settlements.models import LedgerAccount

    day, orders = day_of_trades
    first_buyer = orders[0].buyer
    account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=first_buyer.pk)
    idle, idle_department = MerchantFactory(), DepartmentFactory()
    # when the day is planned, before any chunk runs
    clearing_prepare(business_date=day, chunk_size=5)
    # then each buyer has an escrow account, each seller a payable one, the
    # department its share account; no one else got one
    opened = set(
        LedgerAccount.objects.exclude(merchant=None, department=None).values_list(
            "kind", "merchant_id", "department_id"
        )
    )
    assert opened == (
        {(AccountKind.MERCHANT_ESCROW, o.buyer_id, None) for o in orders}
        | {(AccountKind.MERCHANT_PAYABLE, o.seller_id, None) for o in orders}
        | {(AccountKind.DEPARTMENT_SHARE, None, o.department_id) for o in orders if o.department_id}
    )
    assert not LedgerAccount.objects.filter(merchant=idle).exists()
    assert not LedgerAccount.objects.filter(department=idle_department).exists()
