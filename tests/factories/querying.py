"""Builders for the query service: a privacy-computing product, its data set and templates."""

from decimal import Decimal

from django.utils import timezone

from products.models import PricingPlan, Product
from querying.models import Dataset, DatasetEvent
from tests.factories.marketplace import listed_product
from tests.factories.products import PlanFactory
from tests.factories.world import builds
from tests.querying.data import COLUMNS


def builds_model(name: str):
    from django.apps import apps

    return builds(apps.get_model("querying", name))


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


def approved_template(dataset: Dataset, **kwargs):
    """A template over a loaded data set, submitted (cost computed by the engine) and approved."""
    from querying.choices import TEMPLATE_COMPLIANCE_CHECKLIST, TEMPLATE_PRIVACY_CHECKLIST
    from querying.services import templates
    from tests.factories.accounts import OperatorFactory

    operator = OperatorFactory()
    kwargs.setdefault("name", "people by region")
    kwargs.setdefault(
        "aggregates", [{"function": "count"}, {"function": "avg", "column": "income"}]
    )
    kwargs.setdefault("dimensions", ["region"])
    kwargs.setdefault("filters", [{"column": "age", "op": "ge", "parameter": "min_age"}])
    template = templates.template_create(actor=None, dataset=dataset, **kwargs)
    templates.template_submit(actor=None, template=template)
    templates.template_review_start(actor=operator, template=template)
    return templates.template_approve(
        actor=operator,
        template=template,
        compliance_checklist=dict.fromkeys(TEMPLATE_COMPLIANCE_CHECKLIST, True),
        privacy_checklist=dict.fromkeys(TEMPLATE_PRIVACY_CHECKLIST, True),
    )


def agreement(buyer, product):
    """The buyer's order of the product's metered plan (in force at once: nothing to pay)."""
    from marketplace.services.orders import order_place
    from tests.factories.marketplace import person_of

    return order_place(actor=person_of(buyer), buyer=buyer, plan=metered_plan(product))


def _template_row(product: Product, **kwargs):
    from querying.models import QueryTemplate

    dataset = dataset_row(product)
    kwargs.setdefault("name", "count by region")
    kwargs.setdefault("aggregates", [{"function": "count"}])
    kwargs.setdefault("dimensions", ["region"])
    return QueryTemplate.objects.create(dataset=dataset, product=product, **kwargs)


@builds_model("QueryTemplate")
def _template(owner, counterparty):
    return _template_row(privacy_product(owner))


@builds_model("QueryTemplateEvent")
def _template_event(owner, counterparty):
    return _template(owner, counterparty).events.create(to_status="draft")


@builds_model("PrivacyBudget")
def _budget(owner, counterparty):
    from querying.models import PrivacyBudget

    return PrivacyBudget.objects.create(
        buyer=owner,
        product=privacy_product(counterparty),
        period_start=timezone.localdate().replace(day=1),
        limit_epsilon=Decimal(10),
    )


@builds_model("QueryRun")
def _run(owner, counterparty):
    from querying.models import QueryRun
    from tests.factories.marketplace import OrderFactory

    product = privacy_product(counterparty)
    template = _template_row(product, status="approved")
    order = OrderFactory(buyer=owner, plan=metered_plan(product), amount_fen=0, status="paid")
    return QueryRun.objects.create(
        buyer=owner,
        product=product,
        template=template,
        order=order,
        parameters={},
        parameters_hash="0" * 64,
        period_start=timezone.localdate().replace(day=1),
    )


@builds_model("QueryRunEvent")
def _run_event(owner, counterparty):
    return _run(owner, counterparty).events.create(to_status="queued")
