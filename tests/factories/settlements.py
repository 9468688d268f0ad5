"""Builders for settlement records, and a fast maker of accepted orders for clearing tests.

Orders are made with bulk_create (their fields are the marketplace's; clearing
only reads them), with the escrow payment already posted, as the trading side
does when the buyer pays: bank clearing -A, buyer escrow +A.
"""

import datetime as dt
import itertools

from django.utils import timezone

from core.filters import local_day_start
from marketplace.models import Order
from settlements.choices import AccountKind, ClearingStatus, EntryPurpose, PayoutStatus
from settlements.models import (
    ClearingBatch,
    FeeSchedule,
    JournalEntry,
    LedgerAccount,
    Payout,
    ProductCostLine,
)
from settlements.services.ledger import Line, account_get, exchange_account, journal_post
from tests.factories.accounts import MerchantFactory
from tests.factories.products import PlanFactory, ProductFactory
from tests.factories.world import builds

_numbers = itertools.count(1)
_days = itertools.count(1)


def a_past_day(offset: int | None = None) -> dt.date:
    """A distinct business day in the past (each call moves one day further back)."""
    return timezone.localdate() - dt.timedelta(days=10 + (offset or next(_days)))


def at_local(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return local_day_start(day) + dt.timedelta(hours=hour, minutes=minute)


def make_accepted_orders(
    *,
    day: dt.date,
    count: int,
    sellers=None,
    buyers=None,
    amounts=None,
    refunds=None,
    department=None,
    share_bps: int = 0,
    board=None,
    delivery_mode: str = "api",
    pay: bool = True,
    **extra,
) -> list[Order]:
    """`count` accepted orders on local `day`, spread over the given sellers and buyers."""
    sellers = sellers or [MerchantFactory()]
    buyers = buyers or [MerchantFactory()]
    products = {
        s.pk: ProductFactory(provider=s, board=board, listed_at=timezone.now()) for s in sellers
    }
    plans = {pk: PlanFactory(product=p) for pk, p in products.items()}
    orders = []
    for i in range(count):
        seller = sellers[i % len(sellers)]
        buyer = buyers[i % len(buyers)]
        amount = amounts[i % len(amounts)] if amounts else 10_000 + 37 * i
        refunded = refunds[i % len(refunds)] if refunds else 0
        orders.append(
            Order(
                number=f"T{next(_numbers):010d}",
                buyer=buyer,
                seller=seller,
                product=products[seller.pk],
                plan=plans[seller.pk],
                amount_fen=amount,
                refunded_fen=min(refunded, amount),
                status="accepted",
                board=board,
                delivery_mode=delivery_mode,
                department=department,
                department_share_bps=share_bps if department else 0,
                paid_at=at_local(day, 0, 1),
                accepted_at=at_local(day, (i * 7) % 24, i % 60),
                **extra,
            )
        )
    orders = Order.objects.bulk_create(orders)
    if pay:
        bank = exchange_account(AccountKind.BANK_CLEARING)
        for order in orders:
            escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=order.buyer_id)
            journal_post(
                idempotency_key=f"payment:order:{order.pk}",
                purpose=EntryPurpose.PAYMENT,
                lines=[Line(bank, -order.amount_fen), Line(escrow, order.amount_fen)],
                order_id=order.pk,
            )
            if order.refunded_fen:
                journal_post(
                    idempotency_key=f"refund:order:{order.pk}",
                    purpose=EntryPurpose.REFUND,
                    lines=[Line(escrow, -order.refunded_fen), Line(bank, order.refunded_fen)],
                    order_id=order.pk,
                )
    return orders


def default_fee(bps: int = 300, **kwargs) -> FeeSchedule:
    return FeeSchedule.objects.create(
        fee_bps=bps, effective_from=kwargs.pop("effective_from", dt.date(2020, 1, 1)), **kwargs
    )


@builds(FeeSchedule)
def _fee_schedule(owner, counterparty):
    return FeeSchedule.objects.create(fee_bps=250, effective_from=a_past_day())


@builds(ClearingBatch)
def _batch(owner, counterparty):
    return ClearingBatch.objects.create(business_date=a_past_day())


@builds(LedgerAccount)
def _account(owner, counterparty):
    return account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=owner)


@builds(JournalEntry)
def _entry(owner, counterparty):
    entry, _ = journal_post(
        idempotency_key=f"adjustment:test:{next(_numbers)}",
        purpose=EntryPurpose.ADJUSTMENT,
        lines=[
            Line(account_get(kind=AccountKind.MERCHANT_AVAILABLE, merchant=owner), 100),
            Line(exchange_account(AccountKind.BANK_CLEARING), -100),
        ],
    )
    return entry


@builds(Payout)
def _payout(owner, counterparty):
    batch = ClearingBatch.objects.create(
        business_date=a_past_day(), status=ClearingStatus.CONFIRMED
    )
    return Payout.objects.create(
        batch=batch,
        merchant=owner,
        net_fen=50_000,
        carried_in_fen=0,
        amount_fen=50_000,
        status=PayoutStatus.PENDING,
    )


@builds(ProductCostLine)
def _cost_line(owner, counterparty):
    return ProductCostLine.objects.create(
        product=ProductFactory(provider=owner, listed_at=timezone.now()),
        incurred_on=a_past_day(),
        category="storage",
        amount_fen=12_345,
        description="object storage",
    )
