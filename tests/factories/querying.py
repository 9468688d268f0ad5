"""Builders for the query service: a privacy-computing product, its data set and templates."""

from decimal import Decimal

from django.utils import timezone

from products.models import PricingPlan, Product
from querying.models import Dataset, DatasetEvent
from tests.factories.marketplace import listed_product
from tests.factories.products import PlanFactory
from tests.factories.world import builds
from tests.querying.data import COLUMNS


def privacy_product(provider=None, **kwargs) -> Product:
    """A listed privacy-computing product with a metered plan (a price per run)."""
    if provider is not None:
        kwargs["provider"] = provider
    product = listed_product(delivery_mode="privacy_computing", **kwargs)
    PlanFactory(product=product, kind="metered", price_fen=0, unit_price_fen=500, name="per run")
    return product


def metered_plan(product: Product) -> PricingPlan:
    return product.plans.get(kind="metered", is_active=True)


def dataset_row(product: Product, **kwargs) -> Dataset:
    """A declared data set row (no schema in the database: for isolation and API tests)."""
    kwargs.setdefault("version", product.version)
    kwargs.setdefault("schema_name", f"qd_p{product.pk}_v{kwargs['version']}")
    kwargs.setdefault(
        "columns",
        [dict(c, **{k: str(v) for k, v in c.items() if k in ("lower", "upper")}) for c in COLUMNS],
    )
    kwargs.setdefault("unit_column", "person_id")
    kwargs.setdefault("budget_epsilon", Decimal(10))
    return Dataset.objects.create(product=product, **kwargs)


@builds(Dataset)
def _dataset(owner, counterparty):
    return dataset_row(privacy_product(owner))


@builds(DatasetEvent)
def _dataset_event(owner, counterparty):
    return _dataset(owner, counterparty).events.create(
        from_status="", to_status="declared", created_at=timezone.now()
    )
