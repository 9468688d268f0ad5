import csv
import io

import pytest
from django.core.management import call_command

from core.exceptions import Conflict, InvalidTransition
from marketplace.models import Order, OrderEvent
from settlements.choices import AccountKind, ClearingStatus, PayoutStatus
from settlements.models import JournalEntry, Payout
from settlements.services.clearing import clearing_run_for_day
from settlements.services.ledger import account_get, exchange_account
from settlements.services.payouts import clearing_batch_confirm, payout_csv, payout_mark_paid
from tests.factories.accounts import MerchantFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.settlements.ledger_checks import assert_balances_equal_postings

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed_day(settings):
    """A computed day: a big seller (over the minimum) and a small one (under it)."""
    settings.EXCHANGE_PAYOUT_MINIMUM_FEN = 10_000
    default_fee(1000)
    big, small = MerchantFactory(), MerchantFactory()
    buyer = MerchantFactory()
    day = a_past_day()
    make_accepted_orders(day=day, count=3, sellers=[big], buyers=[buyer], amounts=[20_000])
    make_accepted_orders(day=day, count=1, sellers=[small], buyers=[buyer], amounts=[5_000])
    batch = clearing_run_for_day(business_date=day)
    return batch, big, small, buyer


def test_confirming_draws_up_one_payout_per_merchant_and_carries_small_ones(computed_day, operator):
    # given a computed day
    batch, big, small, _buyer = computed_day
    # when an operator confirms it
    batch = clearing_batch_confirm(actor=operator, batch=batch)
    # then each seller has one payout of its net; the small one is carried over
    assert batch.status == ClearingStatus.CONFIRMED
    big_payout = Payout.objects.get(batch=batch, merchant=big)
    small_payout = Payout.objects.get(batch=batch, merchant=small)
    assert (big_payout.amount_fen, big_payout.status) == (3 * 18_000, PayoutStatus.PENDING)
    assert (small_payout.amount_fen, small_payout.status) == (4_500, PayoutStatus.CARRIED_OVER)
    assert big_payout.events.get().actor == operator


def test_confirming_twice_draws_up_payouts_once(computed_day, operator):
    batch, *_ = computed_day
    clearing_batch_confirm(actor=operator, batch=batch)
    clearing_batch_confirm(actor=operator, batch=batch)
    assert Payout.objects.filter(batch=batch).count() == 2


def test_a_carried_amount_joins_the_merchants_next_payout(computed_day, operator):
    # given a confirmed day where the small seller was carried over
    batch, _big, small, buyer = computed_day
    clearing_batch_confirm(actor=operator, batch=batch)
    carried = Payout.objects.get(batch=batch, merchant=small)
    # when the next day brings it 6,000 fen more net
    day2 = a_past_day()
    make_accepted_orders(day=day2, count=1, sellers=[small], buyers=[buyer], amounts=[6_000])
    batch2 = clearing_batch_confirm(actor=operator, batch=clearing_run_for_day(business_date=day2))
    # then its payout pays both, and the carried one points at it
    payout = Payout.objects.get(batch=batch2, merchant=small)
    assert (payout.net_fen, payout.carried_in_fen, payout.amount_fen) == (5_400, 4_500, 9_900)
    assert payout.status == PayoutStatus.CARRIED_OVER  # 99 yuan is still under 100
    carried.refresh_from_db()
    assert carried.carried_into == payout
    # and a third day takes it over the minimum
    day3 = a_past_day()
    make_accepted_orders(day=day3, count=1, sellers=[small], buyers=[buyer], amounts=[1_000])
    batch3 = clearing_batch_confirm(actor=operator, batch=clearing_run_for_day(business_date=day3))
    last = Payout.objects.get(batch=batch3, merchant=small)
    assert (last.carried_in_fen, last.amount_fen, last.status) == (9_900, 10_800, "pending")


def test_paying_the_payouts_posts_payable_to_bank_and_settles_the_batch(computed_day, operator):
    # given a confirmed day with one pending payout
    batch, big, _small, _buyer = computed_day
    batch = clearing_batch_confirm(actor=operator, batch=batch)
    payable = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=big)
    bank_before = exchange_account(AccountKind.BANK_CLEARING).balance_fen
    payout = Payout.objects.get(batch=batch, merchant=big)
    # when it is marked paid, twice
    payout_mark_paid(actor=operator, payout=payout, bank_reference="BOC-1")
    payout_mark_paid(actor=operator, payout=payout, bank_reference="BOC-1")
    # then payable -> bank clearing is posted once
    entry = JournalEntry.objects.get(idempotency_key=f"payout:{payout.pk}")
    assert sorted(entry.postings.values_list("amount_fen", flat=True)) == [-54_000, 54_000]
    payable.refresh_from_db()
    assert payable.balance_fen == 0
    bank_after = exchange_account(AccountKind.BANK_CLEARING).balance_fen
    assert bank_after - bank_before == 54_000
    # and the batch and all its orders are settled
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.SETTLED
    orders = Order.objects.filter(clearing_batch=batch)
    assert set(orders.values_list("status", flat=True)) == {"settled"}
    assert OrderEvent.objects.filter(subject__in=orders, to_status="settled").count() == 4
    assert_balances_equal_postings()


def test_a_carried_over_payout_cannot_be_paid_itself(computed_day, operator):
    batch, _big, small, _buyer = computed_day
    clearing_batch_confirm(actor=operator, batch=batch)
    with pytest.raises(Conflict):
        payout_mark_paid(actor=operator, payout=Payout.objects.get(batch=batch, merchant=small))


def test_a_running_batch_cannot_be_confirmed(operator):
    from settlements.models import ClearingBatch

    batch = ClearingBatch.objects.create(business_date=a_past_day())
    with pytest.raises(InvalidTransition):
        clearing_batch_confirm(actor=operator, batch=batch)


def test_a_day_with_no_payout_due_settles_on_confirmation(operator):
    batch = clearing_run_for_day(business_date=a_past_day())
    batch = clearing_batch_confirm(actor=operator, batch=batch)
    assert batch.status == ClearingStatus.SETTLED


def test_the_bank_file_lists_pending_payouts_in_yuan(computed_day, operator, tmp_path):
    # given a confirmed day
    batch, big, _small, _buyer = computed_day
    clearing_batch_confirm(actor=operator, batch=batch)
    payout = Payout.objects.get(batch=batch, merchant=big)
    # when the bank file is exported (service and management command)
    rows = list(csv.DictReader(io.StringIO(payout_csv(batch=batch))))
    target = tmp_path / "payouts.csv"
    call_command("export_payouts", batch.business_date.isoformat(), output=str(target))
    # then it holds the pending payout only, with the bank details and the reference
    assert rows == [
        {
            "reference": f"payout:{payout.pk}",
            "business_date": batch.business_date.isoformat(),
            "payee_name": big.bank_account_name,
            "payee_bank": big.bank_name,
            "payee_account": big.bank_account_number,
            "amount_yuan": "540.00",
            "currency": "CNY",
            "memo": f"数据交易结算 {batch.business_date}",
        }
    ]
    assert target.read_bytes().decode() == payout_csv(batch=batch)
