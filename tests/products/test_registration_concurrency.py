import threading

import pytest
from django.db import connection

from products.models import Product, RegistrationCounter
from products.services import product_approve, registration_number_issue
from products.services.registration import format_registration_number
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.products import ALL_TICKED, ProductFactory


def test_format_is_documented_prefix_year_and_six_digit_serial():
    assert format_registration_number(2026, 417) == "HNDP-2026-000417"
    assert format_registration_number(2026, 1_234_567) == "HNDP-2026-1234567"


def _issue_then_fail():
    from django.db import transaction

    with transaction.atomic():
        registration_number_issue()
        raise RuntimeError("listing failed")


@pytest.mark.django_db
def test_a_number_taken_by_a_rolled_back_listing_was_never_issued_and_leaves_no_gap():
    # given one number issued
    first = registration_number_issue()
    # when a listing takes the next one and then fails
    with pytest.raises(RuntimeError):
        _issue_then_fail()
    # then that number was never given to anybody, so the next listing gets it: no gap
    year, serial = first.split("-")[1:]
    assert registration_number_issue() == format_registration_number(int(year), int(serial) + 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_get_unique_registration_numbers():
    # given twelve products in review, each approved by its own thread at once
    operator = OperatorFactory()
    merchant = MerchantFactory()
    products = []
    for _ in range(12):
        product = ProductFactory(provider=merchant, status="in_review")
        product.plans.create(kind="one_off", price_fen=100)
        product.reviews.create(version=1, grade="general")
        products.append(product)
    barrier = threading.Barrier(len(products))
    errors = []

    def approve(product):
        try:
            barrier.wait()
            product_approve(actor=operator, product=product, **ALL_TICKED)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(p,)) for p in products]
    # when they run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every product is listed with its own number, and the counter counted each once
    assert errors == []
    numbers = list(
        Product.objects.filter(pk__in=[p.pk for p in products]).values_list(
            "registration_number", flat=True
        )
    )
    assert all(n.startswith("HNDP-") for n in numbers)
    assert len(set(numbers)) == 12
    assert sum(c.last_serial for c in RegistrationCounter.objects.all()) == 12


def _run_at_once(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def _important_in_review():
    product = ProductFactory(status="in_review", grade="important")
    product.plans.create(kind="one_off", price_fen=100)
    product.reviews.create(version=1, grade="important", required_approvals=2)
    return product


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operators_approving_important_data_at_once_list_it_with_two_approvers():
    # given an important-grade product in review and two operators
    product = _important_in_review()
    first, second = OperatorFactory(), OperatorFactory()
    # when both approve at the same moment
    outcomes = _run_at_once(
        [lambda op=op: product_approve(actor=op, product=product, **ALL_TICKED)
         for op in (first, second)]
    )  # fmt: skip
    # then the row lock orders them: one first approval, one listing
    assert outcomes == ["ok", "ok"]
    product.refresh_from_db()
    assert product.status == "listed"
    review = product.reviews.get()
    assert {review.first_approver_id, review.decided_by_id} == {first.pk, second.pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_operator_approving_important_data_twice_at_once_does_not_list_it():
    product = _important_in_review()
    operator = OperatorFactory()
    outcomes = _run_at_once(
        [lambda: product_approve(actor=operator, product=product, **ALL_TICKED)] * 2
    )
    assert outcomes == ["BusinessRuleViolation", "ok"]
    product.refresh_from_db()
    assert product.status == "in_review"
