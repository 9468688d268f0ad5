import pytest

from core.exceptions import BusinessRuleViolation
from products import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "terms",
    [
        {"kind": "free"},
        {"kind": "one_off", "price_fen": 500_00},
        {"kind": "subscription", "period": "month", "price_fen": 99_00},
        {"kind": "subscription", "period": "quarter", "price_fen": 280_00},
        {"kind": "subscription", "period": "year", "price_fen": 999_00},
        {"kind": "metered", "unit_price_fen": 5, "included_calls": 1000},
        {"kind": "metered", "unit_price_fen": 5, "monthly_cap_fen": 3000_00},
    ],
)
def test_each_kind_of_plan_is_accepted_with_its_terms(terms, owner_a, make_draft):
    product = make_draft(owner_a)
    plan = services.plan_create(actor=owner_a, product=product, **terms)
    for field, value in terms.items():
        assert getattr(plan, field) == value


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"kind": "free", "price_fen": 1}, "price_fen"),
        ({"kind": "one_off", "price_fen": 0}, "price_fen"),
        ({"kind": "one_off", "price_fen": -5}, "price_fen"),
        ({"kind": "one_off", "price_fen": "12"}, "price_fen"),
        ({"kind": "one_off", "price_fen": 10**20}, "price_fen"),
        ({"kind": "subscription", "price_fen": 100}, "period"),
        ({"kind": "subscription", "period": "week", "price_fen": 100}, "period"),
        ({"kind": "one_off", "period": "month", "price_fen": 100}, "period"),
        ({"kind": "metered", "unit_price_fen": 0}, "unit_price_fen"),
        ({"kind": "metered", "unit_price_fen": 10, "monthly_cap_fen": 5}, "monthly_cap_fen"),
        ({"kind": "one_off", "price_fen": 100, "included_calls": 3}, "included_calls"),
        ({"kind": "barter"}, "kind"),
    ],
)
def test_plan_terms_that_do_not_fit_the_kind_are_refused_naming_the_field(
    terms, field, owner_a, make_draft
):
    product = make_draft(owner_a)
    with pytest.raises(BusinessRuleViolation) as err:
        services.plan_create(actor=owner_a, product=product, **terms)
    assert err.value.field == field
    assert product.plans.count() == 1


def test_starting_price_follows_the_cheapest_plan_on_sale(owner_a, make_draft):
    product = make_draft(owner_a, price_fen=500_00)
    services.plan_create(actor=owner_a, product=product, kind="metered", unit_price_fen=3)
    product.refresh_from_db()
    assert product.min_price_fen == 3
    for plan in product.plans.all():
        services.plan_delete(actor=owner_a, plan=plan)
    product.refresh_from_db()
    assert product.min_price_fen is None
