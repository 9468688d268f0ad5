"""Whatever refunds are tried, the escrow and the ledger agree and never go negative."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import BusinessRuleViolation, InvalidTransition
from marketplace.services import refunds
from settlements.models import Posting
from tests.factories.marketplace import pay, place
from tests.factories.products import PlanFactory

pytestmark = pytest.mark.django_db


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    price=st.integers(min_value=1, max_value=10**9),
    attempts=st.lists(st.integers(min_value=-5, max_value=10**9), min_size=1, max_size=6),
)
def test_refunds_never_exceed_the_payment(buyer, product, operator, price, attempts):
    # given a paid order
    order = pay(place(buyer, PlanFactory(product=product, price_fen=price)))
    accepted_total = 0
    # when any sequence of refunds is tried
    for amount in attempts:
        try:
            refunds.order_refund(actor=operator, order=order, amount_fen=amount, reason="test")
            accepted_total += amount
        except (BusinessRuleViolation, InvalidTransition):
            pass
    # then what was refunded is what the ledger moved, within the amount paid
    order.refresh_from_db()
    assert order.refunded_fen == accepted_total <= price
    assert order.escrow_fen == (price - accepted_total if order.status == "paid" else 0)
    assert (order.status == "refunded") == (accepted_total == price)
    escrow_moves = Posting.objects.filter(
        entry__order=order, account__kind="merchant_escrow"
    ).values_list("amount_fen", flat=True)
    assert sum(escrow_moves) == price - accepted_total
