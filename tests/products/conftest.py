"""Builders for products going through the real services (not factories)."""

import pytest

from products import services
from tests.factories.accounts import OperatorFactory
from tests.factories.products import ALL_TICKED, MANUAL, IndustryFactory


@pytest.fixture
def second_operator(db):
    return OperatorFactory()


@pytest.fixture
def industry(db):
    return IndustryFactory(code="weather", name="Weather")


@pytest.fixture
def make_draft(industry):
    """A complete draft with one one-off plan, made through the services."""

    def make(owner, *, grade="general", price_fen=100_00, **fields):
        product = services.product_create(
            actor=owner,
            provider=owner.merchant,
            title=fields.pop("title", "Hourly station observations"),
            summary=fields.pop("summary", "Temperature and rainfall"),
            industry=fields.pop("industry", industry),
            delivery_mode=fields.pop("delivery_mode", "api"),
            grade=grade,
            tags=fields.pop("tags", "weather, rainfall"),
            **{**MANUAL, **fields},
        )
        services.plan_create(actor=owner, product=product, kind="one_off", price_fen=price_fen)
        return product

    return make


@pytest.fixture
def make_listed(make_draft, operator):
    """A product taken through submit, review and approval."""

    def make(owner, **kwargs):
        product = make_draft(owner, **kwargs)
        services.product_submit(actor=owner, product=product)
        services.product_start_review(actor=operator, product=product)
        product = services.product_approve(actor=operator, product=product, **ALL_TICKED)
        assert product.status == "listed"
        return product

    return make
