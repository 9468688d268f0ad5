"""Orders, refunds, disputes and the ledger against a model in Python (hypothesis, stateful).

Every step is a real service call; after each one the database must agree with the model:
each order's status, refunded amount and dispute flag, each buyer's escrow balance, and a
ledger whose balances equal its postings and sum to zero. Profiles: tests/reliability/conftest.py
("ci": 100 examples of 30 steps)."""

import contextlib
from dataclasses import dataclass

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from marketplace.models import Order
from marketplace.services import disputes, orders
from marketplace.services.refunds import order_refund
from settlements.choices import AccountKind
from settlements.models import LedgerAccount
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.marketplace import listed_product, pay, person_of, place
from tests.factories.products import PlanFactory
from tests.reliability.day import ledger_problems

pytestmark = pytest.mark.django_db

REFUSED = (BusinessRuleViolation, Conflict, InvalidTransition)
REFUNDABLE = {"paid", "delivered", "accepted"}


@dataclass
class Modelled:
    pk: int
    buyer: int
    amount: int
    status: str = "pending_payment"
    refunded: int = 0
    disputed: bool = False

    @property
    def escrow(self) -> int:
        held = self.status in REFUNDABLE or (self.status == "refunded" and self.amount)
        return self.amount - self.refunded if held else 0


class Exchange(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a transaction rolled back at teardown: a clean exchange each time.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.operator = OperatorFactory()
        self.buyers = [MerchantFactory(status="active") for _ in range(2)]
        sellers = [MerchantFactory(status="active") for _ in range(2)]
        self.plans = [
            PlanFactory(product=listed_product(provider=seller), price_fen=price)
            for seller, price in zip(sellers, (10_000, 3_333), strict=True)
        ]
        self.orders: list[Modelled] = []

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _db(self, model: Modelled) -> Order:
        return Order.objects.get(pk=model.pk)

    def _expect(self, allowed: bool, call, *, already: bool = False) -> bool:
        """Run a service call; it succeeds exactly when the model allows it.

        `already`: the order already has the status asked for; services answer
        that with a no-op (or, where another rule comes first, a refusal), and
        the invariants check that nothing changed either way.
        """
        if already:
            with contextlib.suppress(*REFUSED):
                call()
            return False
        if allowed:
            call()
            return True
        with pytest.raises(REFUSED):
            call()
        return False

    def _pick(self, data) -> Modelled | None:
        if not self.orders:
            return None
        return data.draw(st.sampled_from(self.orders))

    @rule(buyer=st.integers(0, 1), plan=st.integers(0, 1), quantity=st.integers(1, 3))
    def place_order(self, buyer, plan, quantity):
        order = place(self.buyers[buyer], self.plans[plan], quantity=quantity)
        self.orders.append(
            Modelled(order.pk, self.buyers[buyer].pk, self.plans[plan].price_fen * quantity)
        )

    @rule(data=st.data())
    def pay_order(self, data):
        model = self._pick(data)
        if model is None or model.status != "pending_payment":
            return
        pay(self._db(model))
        model.status = "paid"

    @rule(data=st.data())
    def cancel(self, data):
        model = self._pick(data)
        if model is None:
            return
        order = self._db(model)
        if self._expect(
            model.status == "pending_payment",
            lambda: orders.order_cancel(actor=person_of(order.buyer), order=order),
            already=model.status == "cancelled",
        ):
            model.status = "cancelled"

    @rule(data=st.data())
    def deliver(self, data):
        model = self._pick(data)
        if model is None:
            return
        order = self._db(model)
        if self._expect(
            model.status == "paid",
            lambda: orders.order_deliver(actor=person_of(order.seller), order=order, note="x"),
            already=model.status == "delivered",
        ):
            model.status = "delivered"

    @rule(data=st.data())
    def accept(self, data):
        model = self._pick(data)
        if model is None:
            return
        order = self._db(model)
        if self._expect(
            model.status == "delivered" and not model.disputed,
            lambda: orders.order_accept(actor=person_of(order.buyer), order=order),
            already=model.status == "accepted",
        ):
            model.status = "accepted"

    @rule(data=st.data(), share=st.sampled_from([1, 3, 10]))
    def refund(self, data, share):
        model = self._pick(data)
        if model is None:
            return
        left = model.amount - model.refunded
        amount = max(1, left * share // 10) if left else 1
        order = self._db(model)
        allowed = model.status in REFUNDABLE and not model.disputed and 0 < amount <= left
        if self._expect(
            allowed,
            lambda: order_refund(actor=self.operator, order=order, amount_fen=amount, reason="r"),
        ):
            model.refunded += amount
            if model.refunded == model.amount:
                model.status = "refunded"

    @rule(data=st.data())
    def dispute(self, data):
        model = self._pick(data)
        if model is None:
            return
        order = self._db(model)
        allowed = model.status in ("delivered", "accepted")
        if self._expect(
            allowed,
            lambda: disputes.order_dispute_open(
                actor=person_of(order.buyer), order=order, reason="late"
            ),
            already=model.disputed,
        ):
            model.disputed = True

    @rule(data=st.data(), outcome=st.sampled_from(["release", "refund", "split"]))
    def resolve(self, data, outcome):
        model = self._pick(data)
        if model is None:
            return
        order = self._db(model)
        left = model.amount - model.refunded
        split = left // 2
        allowed = model.disputed and (outcome != "split" or 0 < split < left)
        if self._expect(
            allowed,
            lambda: disputes.order_dispute_resolve(
                actor=self.operator,
                order=order,
                outcome=outcome,
                reason="decided",
                refund_fen=split if outcome == "split" else None,
            ),
        ):
            model.disputed = False
            if outcome == "refund":
                model.refunded = model.amount
                model.status = "refunded"
            else:
                if outcome == "split":
                    model.refunded += split
                model.status = "accepted"

    @invariant()
    def orders_match_the_model(self):
        rows = {
            pk: (status, refunded, disputed)
            for pk, status, refunded, disputed in Order.objects.filter(
                pk__in=[m.pk for m in self.orders]
            ).values_list("pk", "status", "refunded_fen", "is_disputed")
        }
        assert rows == {m.pk: (m.status, m.refunded, m.disputed) for m in self.orders}

    @invariant()
    def escrow_matches_the_model(self):
        balances = dict(
            LedgerAccount.objects.filter(kind=AccountKind.MERCHANT_ESCROW).values_list(
                "merchant_id", "balance_fen"
            )
        )
        for buyer in self.buyers:
            held = sum(
                m.amount - m.refunded
                for m in self.orders
                if m.buyer == buyer.pk and m.status in REFUNDABLE
            )
            assert balances.get(buyer.pk, 0) == held

    @invariant()
    def ledger_adds_up(self):
        assert ledger_problems() == {"balances_off": 0, "entries_unbalanced": 0, "ledger_sum": 0}


def test_orders_refunds_and_disputes_keep_to_the_model():
    run_state_machine_as_test(Exchange)
