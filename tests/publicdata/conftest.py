import pytest
from django.utils import timezone

from tests.factories.products import PlanFactory, ProductFactory
from tests.factories.publicdata import GrantFactory, ScenarioFactory


@pytest.fixture
def grant(merchant_a):
    """An active grant to merchant A, in its window, fee ceiling 100,000.00 yuan."""
    return GrantFactory(grantee=merchant_a)


@pytest.fixture
def scenario(grant):
    """An industry-development scenario of `grant`, assessed (pass) and authorized."""
    return ScenarioFactory(grant=grant)


def make_public_product(grant, *scenarios, status="listed", **fields):
    product = ProductFactory(
        provider=grant.grantee,
        industry=grant.industry,
        source_kind="public",
        grant=grant,
        delivery_mode=fields.pop("delivery_mode", "api"),
        status=status,
        listed_at=timezone.now() if status in ("listed", "suspended") else None,
        **fields,
    )
    product.scenarios.set(scenarios)
    return product


@pytest.fixture
def public_product(grant, scenario):
    """A listed public-data product of merchant A under `grant`, serving `scenario`."""
    product = make_public_product(grant, scenario)
    PlanFactory(product=product, price_fen=500_00)
    return product
