import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Merchant
from core.exceptions import BusinessRuleViolation, InvalidTransition
from marketplace.models import Order
from oversight.models import AuditFinding, AuditRun
from oversight.services.audit import (
    audit_run_execute,
    audit_run_request,
    finding_acknowledge,
    finding_resolve,
)
from settlements.choices import AccountKind, EntryPurpose
from settlements.models import AccountDay, JournalEntry, LedgerAccount, Posting
from settlements.services.ledger import Line, account_get, exchange_account, journal_post
from tests.factories.accounts import MerchantFactory, PersonFactory, make_credit_code
from tests.factories.marketplace import OrderFactory, listed_product
from tests.factories.oversight import AuditRunFactory
from tests.factories.products import PlanFactory
from tests.oversight.conftest import ledger_unlocked, raw

pytestmark = pytest.mark.django_db


def sweep() -> AuditRun:
    run = audit_run_execute()
    assert run is not None
    assert run.status == "finished", run.error
    assert run.error == ""
    return run


def kinds_found() -> set[str]:
    return set(AuditFinding.objects.values_list("kind", flat=True))


def ledger_snapshot():
    return (
        list(LedgerAccount.objects.order_by("pk").values_list("pk", "balance_fen")),
        list(Posting.objects.order_by("pk").values_list("pk", "amount_fen")),
        list(Order.objects.order_by("pk").values_list("pk", "status", "amount_fen")),
    )


def test_a_clean_exchange_gives_no_findings(exchange):
    # given an exchange where every service did its job
    # when the audit sweeps it
    run = sweep()
    # then nothing is found, and the run says so
    assert AuditFinding.objects.count() == 0
    assert run.counts == {}
    assert run.new_findings == 0
    assert run.chain_head_sequence is not None


# --- one planting per kind of corruption ---------------------------------------------------


def plant_unbalanced_entry(ex):
    entry = JournalEntry.objects.get(idempotency_key=f"payment:order:{ex.paid.pk}")
    posting = entry.postings.order_by("pk").first()
    with ledger_unlocked():
        raw(
            "UPDATE settlements_posting SET amount_fen = amount_fen + 7 WHERE id = %s", [posting.pk]
        )
    return entry


def plant_posting_without_balance_move(ex):
    fee = exchange_account(AccountKind.EXCHANGE_FEE)
    entry = JournalEntry.objects.get(idempotency_key=f"payment:order:{ex.paid.pk}")
    raw(
        "INSERT INTO settlements_posting (entry_id, account_id, amount_fen, created_at) "
        "VALUES (%s, %s, %s, %s)",
        [entry.pk, fee.pk, 500, timezone.now()],
    )
    return fee


def plant_balance_edit(ex):
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=ex.sellers[0])
    LedgerAccount.objects.filter(pk=account.pk).update(balance_fen=account.balance_fen + 1_00)
    return account


def plant_day_totals_edit(ex):
    # the statements' roll-up edited behind the ledger's back; postings and balances untouched
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=ex.sellers[0])
    updated = AccountDay.objects.filter(account=account).update(credits_fen=F("credits_fen") + 1)
    assert updated >= 1
    return account


def plant_escrow_leak(ex):
    # balanced and through the ledger service, but no order explains it
    escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=ex.buyers[1])
    journal_post(
        idempotency_key="adjustment:leak",
        purpose=EntryPurpose.ADJUSTMENT,
        lines=[Line(escrow, -3_00), Line(exchange_account(AccountKind.BANK_CLEARING), 3_00)],
    )
    return ex.buyers[1]


def plant_missing_clearing(ex):
    order = ex.cleared[0]
    entry = JournalEntry.objects.get(idempotency_key=f"clearing:order:{order.pk}")
    with ledger_unlocked():
        raw("DELETE FROM settlements_posting WHERE entry_id = %s", [entry.pk])
        raw("DELETE FROM settlements_journalentry WHERE id = %s", [entry.pk])
    return order


def plant_double_clearing(ex):
    order = ex.cleared[1]
    escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=order.buyer_id)
    payable = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=order.seller_id)
    journal_post(
        idempotency_key=f"clearing:order:{order.pk}:again",
        purpose=EntryPurpose.CLEARING,
        lines=[Line(escrow, -order.amount_fen), Line(payable, order.amount_fen)],
        order_id=order.pk,
    )
    return order


def plant_lapsed_grant(ex):
    type(ex.grant).objects.filter(pk=ex.grant.pk).update(status="revoked")
    return ex.public_product


def plant_lapsed_scenario(ex):
    ex.scenario.authorization.__class__.objects.filter(scenario=ex.scenario).update(
        valid_until=timezone.now() - dt.timedelta(days=1)
    )
    return ex.public_product


def plant_shared_bank_account(ex):
    buyer, seller = ex.paid.buyer, ex.paid.seller
    Merchant.objects.filter(pk=buyer.pk).update(bank_account_number=seller.bank_account_number)
    return buyer


def plant_same_organisation(ex):
    # Same organisation code (characters 9-17) registered again under another region.
    seller_code = ex.paid.seller.credit_code
    from accounts.credit_code import check_character

    body = seller_code[:2] + "430200" + seller_code[8:17]
    twin = MerchantFactory(credit_code=body + check_character(body))
    OrderFactory(buyer=twin, plan=ex.plan, paid_at=timezone.now(), status="paid")
    return twin


def plant_same_owner(ex):
    seller = ex.paid.seller
    twin = MerchantFactory()
    owner = seller.people.filter(merchant_role="owner").first()
    PersonFactory(merchant=twin, merchant_role="owner", email=owner.email.upper())
    OrderFactory(buyer=twin, plan=ex.plan, paid_at=timezone.now(), status="paid")
    return twin


def plant_circular_trade(ex):
    a, b = ex.buyers
    now = timezone.now()
    OrderFactory(buyer=b, plan=PlanFactory(product=listed_product(provider=a)), paid_at=now)
    OrderFactory(
        buyer=a,
        plan=PlanFactory(product=listed_product(provider=b)),
        paid_at=now - dt.timedelta(days=12),
    )
    return a


def plant_wrong_amount(ex):
    Order.objects.filter(pk=ex.pending.pk).update(amount_fen=ex.pending.amount_fen - 1)
    return ex.pending


def plant_stuck_payment(ex):
    Order.objects.filter(pk=ex.paid.pk).update(paid_at=timezone.now() - dt.timedelta(days=20))
    return ex.paid


PLANTINGS = [
    ("entry_unbalanced", plant_unbalanced_entry, "settlements.journalentry"),
    ("ledger_unbalanced", plant_posting_without_balance_move, None),
    ("balance_mismatch", plant_balance_edit, "settlements.ledgeraccount"),
    ("day_totals_mismatch", plant_day_totals_edit, "settlements.ledgeraccount"),
    ("escrow_mismatch", plant_escrow_leak, "accounts.merchant"),
    ("clearing_postings", plant_missing_clearing, "marketplace.order"),
    ("clearing_postings", plant_double_clearing, "marketplace.order"),
    ("public_data_not_in_force", plant_lapsed_grant, "products.product"),
    ("public_data_not_in_force", plant_lapsed_scenario, "products.product"),
    ("self_dealing", plant_shared_bank_account, "accounts.merchant"),
    ("self_dealing", plant_same_organisation, "accounts.merchant"),
    ("self_dealing", plant_same_owner, "accounts.merchant"),
    ("circular_trade", plant_circular_trade, "accounts.merchant"),
    ("amount_mismatch", plant_wrong_amount, "marketplace.order"),
    ("stuck_order", plant_stuck_payment, "marketplace.order"),
]


@pytest.mark.parametrize(
    ("kind", "plant", "model"), PLANTINGS, ids=[p[1].__name__ for p in PLANTINGS]
)
def test_the_audit_catches_corruption_planted_in_the_database(exchange, kind, plant, model):
    # given a clean exchange, corrupted behind the services' back
    victim = plant(exchange)
    before = ledger_snapshot()
    # when the audit sweeps
    run = sweep()
    # then a finding of that kind names the object concerned, and nothing was repaired
    findings = AuditFinding.objects.filter(kind=kind)
    assert findings.exists(), f"{kind} not found; found {kinds_found()}"
    assert run.counts[kind] >= 1
    if model is not None:
        concerned = {(o["model"], o["id"]) for f in findings for o in f.objects_concerned}
        assert (model, victim.pk) in concerned
    assert ledger_snapshot() == before


def test_every_planted_corruption_is_caught_by_one_sweep(exchange):
    # given every kind of corruption at once
    for _, plant, _ in PLANTINGS:
        plant(exchange)
    # when one sweep runs
    sweep()
    # then every kind is reported
    assert {p[0] for p in PLANTINGS} <= kinds_found()


def test_critical_money_findings_and_medium_stuck_orders(exchange):
    # given an unbalanced entry and a stuck order
    plant_unbalanced_entry(exchange)
    plant_stuck_payment(exchange)
    # when swept
    sweep()
    # then severities follow the kind
    assert AuditFinding.objects.get(kind="entry_unbalanced").severity == "critical"
    assert AuditFinding.objects.get(kind="stuck_order").severity == "medium"


def test_a_later_sweep_updates_the_open_finding_instead_of_duplicating_it(exchange):
    # given a stuck order found by a first sweep
    plant_stuck_payment(exchange)
    first = sweep()
    finding = AuditFinding.objects.get(kind="stuck_order")
    # when a second sweep sees it again
    second = sweep()
    # then there is still one finding, seen twice, last by the second run
    finding.refresh_from_db()
    assert AuditFinding.objects.filter(kind="stuck_order").count() == 1
    assert finding.times_seen == 2
    assert finding.first_run == first
    assert finding.last_run == second
    assert finding.last_seen_at > finding.first_seen_at
    assert second.new_findings == 0
    assert second.updated_findings == 1


def test_an_acknowledged_finding_is_updated_too(exchange, operator):
    # given an acknowledged finding
    plant_wrong_amount(exchange)
    sweep()
    finding = finding_acknowledge(
        actor=operator, finding=AuditFinding.objects.get(), reason="looking"
    )
    # when the problem is seen again
    sweep()
    # then the same finding is updated and stays acknowledged
    finding.refresh_from_db()
    assert AuditFinding.objects.count() == 1
    assert finding.status == "acknowledged"
    assert finding.times_seen == 2


def test_a_problem_still_there_after_resolving_opens_a_new_finding(exchange, operator):
    # given a finding resolved although the data was not fixed
    plant_wrong_amount(exchange)
    sweep()
    old = finding_resolve(
        actor=operator, finding=AuditFinding.objects.get(), reason="test order, accepted"
    )
    # when the next sweep runs
    sweep()
    # then a new open finding appears beside the resolved one
    assert AuditFinding.objects.filter(status="resolved").get() == old
    assert AuditFinding.objects.filter(status="open", fingerprint=old.fingerprint).count() == 1


def test_acknowledge_then_resolve_records_who_and_why(exchange, operator):
    # given an open finding
    plant_wrong_amount(exchange)
    sweep()
    finding = AuditFinding.objects.get()
    # when an operator acknowledges, then resolves it
    finding_acknowledge(actor=operator, finding=finding, reason="checking with the seller")
    finding = finding_resolve(actor=operator, finding=finding, reason="reversal entry #9 posted")
    # then who and why are kept, and each move is an event
    assert finding.status == "resolved"
    assert finding.acknowledged_by == operator
    assert finding.resolved_by == operator
    assert finding.resolution == "reversal entry #9 posted"
    moves = list(finding.events.values_list("from_status", "to_status", "actor"))
    assert moves == [
        ("", "open", None),
        ("open", "acknowledged", operator.pk),
        ("acknowledged", "resolved", operator.pk),
    ]


def test_resolving_needs_a_reason_and_a_resolved_finding_stays_resolved(exchange, operator):
    # given an open finding
    plant_wrong_amount(exchange)
    sweep()
    finding = AuditFinding.objects.get()
    # when resolved without a reason, then with one, then acknowledged
    with pytest.raises(BusinessRuleViolation):
        finding_resolve(actor=operator, finding=finding, reason="  ")
    finding_resolve(actor=operator, finding=finding, reason="fixed")
    with pytest.raises(InvalidTransition):
        finding_acknowledge(actor=operator, finding=finding)
    # then only the one move happened
    assert finding.events.count() == 2


def test_acknowledging_twice_is_a_no_op(exchange, operator):
    # given an acknowledged finding
    plant_wrong_amount(exchange)
    sweep()
    finding = finding_acknowledge(actor=operator, finding=AuditFinding.objects.get())
    # when acknowledged again
    finding_acknowledge(actor=operator, finding=finding)
    # then no second event
    assert finding.events.count() == 2


def test_the_database_refuses_two_unresolved_findings_with_one_fingerprint(exchange):
    # given an open finding
    plant_wrong_amount(exchange)
    sweep()
    finding = AuditFinding.objects.get()
    # when a second unresolved one with its fingerprint is inserted
    finding.pk = None
    # then the partial unique constraint refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        finding.save()


def test_a_run_already_started_is_not_started_again(exchange):
    # given a finished run
    run = sweep()
    # when its task is delivered again (acks_late redelivery)
    again = audit_run_execute(run_id=run.pk)
    # then nothing is redone
    assert again.pk == run.pk
    assert AuditRun.objects.count() == 1


def test_only_one_sweep_runs_at_a_time_and_a_crashed_one_is_closed(exchange):
    # given a run marked running a moment ago (another worker is on it)
    busy = AuditRunFactory(status="running", started_at=timezone.now(), finished_at=None)
    # when a second sweep is asked for
    skipped = audit_run_execute()
    # then it does not start, and its run row says why instead of waiting for ever
    assert skipped is None
    closed = AuditRun.objects.exclude(pk=busy.pk).get()
    assert closed.status == "failed"
    assert "another audit sweep was running" in closed.error
    # and given the running one is hours old (its worker died)
    AuditRun.objects.filter(pk=busy.pk).update(started_at=timezone.now() - dt.timedelta(hours=5))
    # when a sweep is asked for, it runs, and the stale one is marked failed
    assert audit_run_execute().status == "finished"
    busy.refresh_from_db()
    assert busy.status == "failed"


def test_an_operator_request_queues_a_run_that_the_worker_executes(
    exchange, operator, django_capture_on_commit_callbacks
):
    # given an operator
    # when they ask for a sweep (tasks run eagerly in tests)
    with django_capture_on_commit_callbacks(execute=True):
        run = audit_run_request(actor=operator)
    # then the run was executed by the task
    run.refresh_from_db()
    assert run.trigger == "operator"
    assert run.requested_by == operator
    assert run.status == "finished"


def test_merchants_sharing_a_bank_account_are_reported_only_once_they_trade(exchange):
    # given two merchants sharing a bank account (spaces aside), with no trade yet
    a = MerchantFactory(credit_code=make_credit_code(90_001), bank_account_number="62220001")
    b = MerchantFactory(credit_code=make_credit_code(90_002), bank_account_number="6222 0001")
    # when swept
    sweep()
    # then nothing is reported
    assert not AuditFinding.objects.filter(kind="self_dealing").exists()
    # when b buys from a and pays, and the next sweep runs
    OrderFactory(buyer=b, plan=PlanFactory(product=listed_product(provider=a)),
                 paid_at=timezone.now(), status="paid")  # fmt: skip
    sweep()
    # then the pair is reported once, naming both
    finding = AuditFinding.objects.get(kind="self_dealing")
    assert finding.fingerprint == f"self_dealing:merchants:{min(a.pk, b.pk)}:{max(a.pk, b.pk)}"
    assert finding.details["shared"] == ["bank account"]


def test_a_failing_check_is_reported_on_the_run_without_hiding_the_others(exchange, monkeypatch):
    # given a check that breaks, and a stuck order another check should find
    from oversight.services import checks

    def broken():
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(checks.CHECKS, "escrow", broken)
    plant_stuck_payment(exchange)
    # when the sweep runs
    run = audit_run_execute()
    # then the run finished, names the broken check, and the other checks still reported
    assert run.status == "finished"
    assert "escrow: RuntimeError: database hiccup" in run.error
    assert AuditFinding.objects.filter(kind="stuck_order").exists()


def test_a_day_total_edited_by_hand_is_a_finding_naming_the_account_and_day(exchange):
    # given a clean exchange whose payable account's day totals are edited, nothing else
    account = plant_day_totals_edit(exchange)
    day = AccountDay.objects.filter(account=account).order_by("day").first().day
    # when the audit sweeps
    sweep()
    # then exactly that account's days are found, and no balance or ledger finding
    findings = AuditFinding.objects.filter(kind="day_totals_mismatch")
    assert f"day_totals_mismatch:account:{account.pk}:{day}" in {f.fingerprint for f in findings}
    assert kinds_found() == {"day_totals_mismatch"}
    assert findings.first().severity == "critical"


def test_a_balance_on_an_account_without_postings_is_a_mismatch_of_that_amount(exchange):
    # given an account that was never posted to, given a balance by hand
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=MerchantFactory())
    assert not Posting.objects.filter(account=account).exists()
    LedgerAccount.objects.filter(pk=account.pk).update(balance_fen=4_56)
    # when the audit sweeps
    sweep()
    # then the account is found, with what it shows and what its postings sum to
    finding = AuditFinding.objects.get(fingerprint=f"balance_mismatch:account:{account.pk}")
    assert finding.details["balance_fen"] == 4_56
    assert finding.details["postings_sum_fen"] == 0


def test_an_escrow_leak_is_reported_with_the_balance_and_the_open_orders(exchange):
    # given escrow moved by an adjustment no order explains
    buyer = plant_escrow_leak(exchange)
    held = sum(
        o.amount_fen - o.refunded_fen
        for o in Order.objects.filter(buyer=buyer, status__in=["paid", "delivered", "accepted"])
    )
    # when the audit sweeps
    sweep()
    # then the buyer's escrow is found 3 yuan short of its paid, uncleared orders
    finding = AuditFinding.objects.get(fingerprint=f"escrow_mismatch:merchant:{buyer.pk}")
    assert finding.details == {"escrow_balance_fen": held - 3_00, "open_orders_fen": held}


def test_a_clearing_entry_that_leaves_escrow_untouched_is_reported(exchange):
    # given a cleared order whose clearing entry lost its escrow line (its sums edited away)
    order = exchange.cleared[2]
    entry = JournalEntry.objects.get(idempotency_key=f"clearing:order:{order.pk}")
    escrow = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=order.buyer_id)
    with ledger_unlocked():
        raw(
            "DELETE FROM settlements_posting WHERE entry_id = %s AND account_id = %s",
            [entry.pk, escrow.pk],
        )
    # when the audit sweeps
    sweep()
    # then the order is found with its one entry taking nothing from escrow
    finding = AuditFinding.objects.get(fingerprint=f"clearing_postings:order:{order.pk}")
    assert finding.details["clearing_entries"] == 1
    assert finding.details["escrow_debit_fen"] == 0
    assert finding.details["expected_escrow_debit_fen"] == order.refunded_fen - order.amount_fen


def test_self_dealing_counts_every_paid_order_between_the_pair_either_way(exchange):
    # given two merchants whose owners share an e-mail, trading both ways
    a, b = MerchantFactory(), MerchantFactory()
    PersonFactory(merchant=a, merchant_role="owner", email="same@example.cn")
    PersonFactory(merchant=b, merchant_role="owner", email="Same@Example.cn")
    now = timezone.now()
    for buyer, seller in ((a, b), (a, b), (b, a)):
        OrderFactory(buyer=buyer, plan=PlanFactory(product=listed_product(provider=seller)),
                     paid_at=now, status="paid")  # fmt: skip
    OrderFactory(buyer=a, plan=PlanFactory(product=listed_product(provider=b)), status="placed")
    # when the audit sweeps
    sweep()
    # then the pair is one finding over its three paid orders, naming the owner as shared
    finding = AuditFinding.objects.get(
        fingerprint=f"self_dealing:merchants:{min(a.pk, b.pk)}:{max(a.pk, b.pk)}"
    )
    assert finding.details == {"shared": ["owner"], "paid_orders": 3}


@pytest.mark.django_db(transaction=True)
def test_a_sweep_on_two_connections_seals_and_finds_what_one_connection_finds(exchange, settings):
    # given committed data (the second connection sees only that) with problems planted
    from oversight.models import ChainSeal

    settings.EXCHANGE_AUDIT_WORKERS = 2
    leaking = plant_escrow_leak(exchange)
    stuck = plant_stuck_payment(exchange)
    # when the sweep runs outside any transaction, sealing beside the checks
    run = sweep()
    # then the history is sealed and verifies, and both problems are found
    assert ChainSeal.objects.exists()
    assert run.seals_verified == ChainSeal.objects.count()
    assert run.counts == {"escrow_mismatch": 1, "stuck_order": 1}
    found = {f.fingerprint for f in AuditFinding.objects.all()}
    assert found == {f"escrow_mismatch:merchant:{leaking.pk}", f"stuck_order:order:{stuck.pk}:paid"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_on_two_connections_gives_each_check_one_core(exchange, settings, monkeypatch):
    # given a sweep on two connections, with a check that notes its connection's settings
    from django.db import connection

    from oversight.services import audit

    settings.EXCHANGE_AUDIT_WORKERS = 2
    seen = []

    def noting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            seen.append(cursor.fetchone()[0])
        return []

    monkeypatch.setattr(audit, "CHECKS", {f"noting_{i}": noting for i in range(6)})
    # when it runs
    audit._run_checks()
    # then no check asked PostgreSQL for parallel workers of its own, on either connection
    assert seen == ["0"] * 6
    # and outside the sweep the server's own setting is back
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] != "0"
