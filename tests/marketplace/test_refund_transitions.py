"""Refund status moves go through core.transitions: checked against REFUND_TRANSITIONS, recorded."""

import pytest

from core.exceptions import Conflict, InvalidTransition
from core.transitions import transition
from marketplace.choices import REFUND_TRANSITIONS, RefundStatus
from marketplace.models import Refund
from marketplace.services import refunds
from tests.factories.marketplace import delivered, person_of

pytestmark = pytest.mark.django_db


def _history(refund: Refund) -> list[tuple[str, str]]:
    return list(refund.events.order_by("pk").values_list("from_status", "to_status"))


def test_a_request_then_its_approval_are_both_recorded(buyer, plan):
    # given a delivered order and a buyer asking for half back
    order = delivered(buyer, plan)
    asker, seller = person_of(buyer), person_of(order.seller)
    refund = refunds.order_refund_request(
        actor=asker, order=order, amount_fen=50_00, reason="half missing"
    )
    # when the seller approves it
    refunds.refund_request_approve(actor=seller, refund=refund)
    # then the refund's history says who asked and who decided
    refund.refresh_from_db()
    assert refund.status == RefundStatus.COMPLETED
    assert _history(refund) == [("", "requested"), ("requested", "completed")]
    assert [e.actor for e in refund.events.order_by("pk")] == [asker, seller]


def test_a_declined_request_is_recorded_and_cannot_be_decided_again(buyer, plan):
    order = delivered(buyer, plan)
    refund = refunds.order_refund_request(
        actor=person_of(buyer), order=order, amount_fen=10_00, reason="late"
    )
    refunds.refund_request_decline(actor=person_of(order.seller), refund=refund, reason="on time")
    refund.refresh_from_db()
    assert (refund.status, refund.decided_by) == (RefundStatus.DECLINED, person_of(order.seller))
    assert _history(refund) == [("", "requested"), ("requested", "declined")]
    with pytest.raises(Conflict):
        refunds.refund_request_approve(actor=person_of(order.seller), refund=refund)


def test_a_full_refund_declines_the_open_requests_through_the_table(buyer, plan, operator):
    # given two open requests on a delivered order
    order = delivered(buyer, plan)
    open_requests = [
        refunds.order_refund_request(
            actor=person_of(buyer), order=order, amount_fen=10_00, reason=f"ask {i}"
        )
        for i in range(2)
    ]
    # when an operator refunds everything
    made = refunds.order_refund(actor=operator, order=order, reason="withdrawn")
    # then the operator's refund is a request decided at once, and the open ones are declined
    assert _history(made) == [("", "requested"), ("requested", "completed")]
    for request in open_requests:
        request.refresh_from_db()
        assert request.status == RefundStatus.DECLINED
        assert _history(request)[-1] == ("requested", "declined")
        assert request.events.order_by("pk").last().actor == operator


def test_a_decided_refund_has_no_move_left():
    assert REFUND_TRANSITIONS[RefundStatus.COMPLETED] == frozenset()
    refund = Refund(status=RefundStatus.COMPLETED)
    with pytest.raises(InvalidTransition):
        transition(refund, to=RefundStatus.DECLINED, actor=None, transitions=REFUND_TRANSITIONS)
