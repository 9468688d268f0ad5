"""What every clearing test checks: the ledger equals one clean run's ledger."""

from collections import Counter

from django.db.models import Sum

from marketplace.models import Order, OrderEvent
from settlements.choices import AccountKind
from settlements.models import JournalEntry, LedgerAccount, Posting
from settlements.services.fees import fee_bps_for, order_split


def clearing_lines(batch) -> Counter:
    """The batch's postings as (order, account kind, holder, amount), counted."""
    rows = Posting.objects.filter(
        entry__clearing_batch=batch, entry__purpose="clearing"
    ).values_list(
        "entry__order_id",
        "account__kind",
        "account__merchant_id",
        "account__department_id",
        "amount_fen",
    )
    return Counter(rows)


def expected_lines(orders, day) -> Counter:
    """The same postings computed in Python with the one rounding rule."""
    expected: Counter[tuple] = Counter()
    for order in orders:
        gross = order.amount_fen - order.refunded_fen
        if gross <= 0:
            continue
        fee_bps = fee_bps_for(board_id=order.board_id, delivery_mode=order.delivery_mode, day=day)
        share_bps = order.department_share_bps if order.department_id else 0
        split = order_split(gross_fen=gross, fee_bps=fee_bps, share_bps=share_bps)
        legs = [
            (AccountKind.MERCHANT_ESCROW, order.buyer_id, None, -gross),
            (AccountKind.EXCHANGE_FEE, None, None, split.fee_fen),
            (AccountKind.DEPARTMENT_SHARE, None, order.department_id, split.share_fen),
            (AccountKind.MERCHANT_PAYABLE, order.seller_id, None, split.net_fen),
        ]
        for kind, merchant, department, amount in legs:
            if amount:
                expected[(order.pk, kind, merchant, department, amount)] += 1
    return expected


def assert_balances_equal_postings() -> None:
    sums = dict(
        Posting.objects.values("account_id")
        .annotate(s=Sum("amount_fen"))
        .values_list("account_id", "s")
    )
    for account in LedgerAccount.objects.all():
        assert account.balance_fen == sums.get(account.pk, 0), account
    assert sum(sums.values()) == 0
    assert_day_totals_equal_postings()


def assert_day_totals_equal_postings() -> None:
    """Every account's day totals (the statements' roll-up) add up that day's postings."""
    from oversight.services.checks import check_account_days

    assert [problem.summary for problem in check_account_days()] == []


def assert_cleared_once(orders, batch) -> None:
    ids = [o.pk for o in orders]
    assert set(Order.objects.filter(pk__in=ids).values_list("status", "clearing_batch_id")) == {
        ("cleared", batch.pk)
    }
    entries = Counter(
        JournalEntry.objects.filter(order_id__in=ids, purpose="clearing").values_list(
            "order_id", flat=True
        )
    )
    assert set(entries.values()) <= {1}
    events = Counter(
        OrderEvent.objects.filter(subject_id__in=ids, to_status="cleared").values_list(
            "subject_id", flat=True
        )
    )
    assert events == Counter(ids)


def assert_totals_are_the_ledgers(batch) -> None:
    from settlements.services.clearing import clearing_batch_verify

    assert clearing_batch_verify(batch=batch) == {}
