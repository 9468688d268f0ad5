import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.money import apportion
from settlements.choices import AccountKind, EntryPurpose
from settlements.exceptions import LedgerImbalance
from settlements.models import JournalEntry, LedgerAccount, Posting
from settlements.services.fees import order_split
from settlements.services.ledger import Line, account_get, exchange_account, journal_post
from tests.factories.accounts import MerchantFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders
from tests.settlements.ledger_checks import assert_balances_equal_postings


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gross=st.integers(min_value=0, max_value=10**15),
    fee_bps=st.integers(min_value=0, max_value=10_000),
    share_bps=st.integers(min_value=0, max_value=10_000),
)
def test_the_rounding_rule_always_gives_parts_that_sum_to_the_gross(gross, fee_bps, share_bps):
    # when any gross is split at any pair of rates (clearing caps the pair at 100 %)
    split = order_split(gross_fen=gross, fee_bps=fee_bps, share_bps=share_bps)
    # then the parts add up exactly, none is negative, and each rate part is floored
    assert split.fee_fen + split.share_fen + split.net_fen == gross
    assert min(split.fee_fen, split.share_fen, split.net_fen) >= 0
    assert split.share_fen == gross * min(share_bps, 10_000) // 10_000
    if fee_bps + share_bps <= 10_000:
        assert split == apportion(gross, fee_bps=fee_bps, share_bps=share_bps)


@pytest.mark.django_db
def test_an_unbalanced_entry_is_refused():
    merchant = MerchantFactory()
    bank = exchange_account(AccountKind.BANK_CLEARING)
    escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=merchant)
    with pytest.raises(LedgerImbalance):
        journal_post(
            idempotency_key="x:1",
            purpose=EntryPurpose.ADJUSTMENT,
            lines=[Line(bank, -100), Line(escrow, 99)],
        )
    with pytest.raises(LedgerImbalance):
        journal_post(idempotency_key="x:2", purpose=EntryPurpose.ADJUSTMENT, lines=[Line(bank, 0)])
    assert not JournalEntry.objects.exists()


@pytest.mark.django_db
def test_one_idempotency_key_posts_once():
    merchant = MerchantFactory()
    lines = [
        Line(exchange_account(AccountKind.BANK_CLEARING), -500),
        Line(account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=merchant), 500),
    ]
    first, created = journal_post(idempotency_key="payment:order:9", purpose="payment", lines=lines)
    again, created_again = journal_post(
        idempotency_key="payment:order:9", purpose="payment", lines=lines
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Posting.objects.count() == 2
    assert_balances_equal_postings()


@pytest.mark.django_db
def test_the_database_refuses_a_second_entry_with_the_same_key():
    JournalEntry.objects.create(idempotency_key="k", purpose="adjustment")
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(idempotency_key="k", purpose="adjustment")


@pytest.mark.django_db
def test_balances_equal_the_sum_of_postings_after_payments_clearing_and_reversal():
    # given payments and a cleared day
    default_fee(250)
    day = a_past_day()
    make_accepted_orders(day=day, count=9, refunds=[0, 300])
    from settlements.services.clearing import clearing_run_for_day
    from settlements.services.ledger import journal_reverse

    batch = clearing_run_for_day(business_date=day, chunk_size=4)
    # and a reversal of one clearing entry
    journal_reverse(entry=JournalEntry.objects.filter(clearing_batch=batch).first())
    # then every running balance equals the sum of its postings
    assert_balances_equal_postings()


@pytest.mark.django_db
def test_every_posting_points_at_a_real_entry_and_account():
    # postings carry no database foreign-key check (see Posting); the data must hold anyway
    default_fee(250)
    day = a_past_day()
    make_accepted_orders(day=day, count=5)
    from settlements.services.clearing import clearing_run_for_day

    clearing_run_for_day(business_date=day)
    assert Posting.objects.count() > 0
    assert not Posting.objects.exclude(entry__in=JournalEntry.objects.all()).exists()
    assert not Posting.objects.exclude(account__in=LedgerAccount.objects.all()).exists()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE settlements_posting SET amount_fen = amount_fen + 1",
        "DELETE FROM settlements_posting",
        "UPDATE settlements_journalentry SET memo = 'edited'",
        "DELETE FROM settlements_journalentry",
        "DELETE FROM settlements_ledgeraccount",
    ],
)
def test_postgres_refuses_to_change_or_delete_ledger_rows(statement):
    # given a posted entry
    merchant = MerchantFactory()
    journal_post(
        idempotency_key="payment:order:1",
        purpose="payment",
        lines=[
            Line(exchange_account(AccountKind.BANK_CLEARING), -700),
            Line(account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=merchant), 700),
        ],
    )
    # when someone edits or deletes ledger rows with raw SQL
    with (
        pytest.raises(DatabaseError, match="ledger"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    # then the rows are unchanged
    assert sorted(Posting.objects.values_list("amount_fen", flat=True)) == [-700, 700]
    assert JournalEntry.objects.get().memo == ""


@pytest.mark.django_db
def test_each_posting_moves_its_accounts_totals_for_the_local_day():
    # given an escrow account paid into twice and refunded once today
    from django.utils import timezone

    from settlements.models import AccountDay

    merchant = MerchantFactory()
    bank = exchange_account(AccountKind.BANK_CLEARING)
    escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=merchant)
    for key, amount in (("payment:order:1", 700), ("payment:order:2", 300), ("refund:1", -200)):
        journal_post(
            idempotency_key=key,
            purpose="payment" if amount > 0 else "refund",
            lines=[Line(bank, -amount), Line(escrow, amount)],
        )
    # when the same key is posted again
    journal_post(
        idempotency_key="refund:1", purpose="refund", lines=[Line(bank, 200), Line(escrow, -200)]
    )
    # then the day's totals hold credits and debits apart, counted once, on Shanghai's day
    today = timezone.localdate()
    assert AccountDay.objects.get(account=escrow).day == today
    totals = AccountDay.objects.values_list("account_id", "credits_fen", "debits_fen", "postings")
    assert set(totals) == {(escrow.pk, 1000, 200, 3), (bank.pk, 200, 1000, 3)}
    assert_balances_equal_postings()
