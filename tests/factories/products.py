import factory
from django.utils import timezone

from products.models import (
    Board,
    Industry,
    PricingPlan,
    Product,
    ProductReview,
    ProductRevision,
    RevisionPlan,
)
from tests.factories.accounts import MerchantFactory
from tests.factories.world import builds

ON_EXCHANGE = ("listed", "suspended", "delisted")

MANUAL = {
    "manual_data_source": "Hourly readings of 1,200 automatic stations.",
    "manual_content": "station_id, observed_at, temperature, rainfall",
    "manual_coverage": "Hunan province, 2015 onwards",
    "manual_update_frequency": "Hourly",
    "manual_quality": "Checked against the national reference network.",
    "manual_usage_restrictions": "No resale of raw records.",
}
ALL_TICKED = {
    "compliance_checklist": {
        "source_lawful": True,
        "personal_information": True,
        "grade_confirmed": True,
        "usage_restrictions": True,
        "public_data_rules": True,
    },
    "quality_checklist": {
        "manual_complete": True,
        "sample_matches": True,
        "coverage_stated": True,
        "pricing_clear": True,
    },
}


class IndustryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Industry
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"industry-{n}")
    name = factory.Sequence(lambda n: f"Industry {n}")


class BoardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Board
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"board-{n}")
    name = factory.Sequence(lambda n: f"Board {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product; status defaults to listed (registered, listed now) so trading tests can
    buy it at once. Pass status="draft" for one that never reached the exchange."""

    class Meta:
        model = Product

    provider = factory.SubFactory(MerchantFactory)
    title = factory.Sequence(lambda n: f"Data product {n}")
    summary = "Hourly observations"
    industry = factory.SubFactory(IndustryFactory)
    delivery_mode = "api"
    grade = "general"
    source_kind = "own"
    status = "listed"
    # TEST- keeps factory numbers apart from the HNDP- numbers the services issue.
    registration_number = factory.LazyAttributeSequence(
        lambda o, n: f"TEST-{n:08d}" if o.status in ON_EXCHANGE else None
    )
    listed_at = factory.LazyAttribute(lambda o: timezone.now() if o.status in ON_EXCHANGE else None)
    volume_bytes = 1024
    manual_data_source = MANUAL["manual_data_source"]
    manual_content = MANUAL["manual_content"]
    manual_coverage = MANUAL["manual_coverage"]
    manual_update_frequency = MANUAL["manual_update_frequency"]
    manual_quality = MANUAL["manual_quality"]
    manual_usage_restrictions = MANUAL["manual_usage_restrictions"]


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricingPlan
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    name = "One-off"
    kind = "one_off"
    price_fen = 100_00

    @factory.post_generation
    def _min_price(obj, create, extracted, **kwargs):
        if create:
            from products.services.common import refresh_min_price

            refresh_min_price(obj.product)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductReview

    product = factory.SubFactory(ProductFactory, status="submitted")
    version = 1
    grade = "general"


class RevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductRevision

    product = factory.SubFactory(ProductFactory)
    number = 2
    title = factory.LazyAttribute(lambda o: f"{o.product.title} v2")
    industry = factory.LazyAttribute(lambda o: o.product.industry)
    delivery_mode = "api"


@builds(Industry)
def _industry(owner, counterparty):
    return IndustryFactory()


@builds(Board)
def _board(owner, counterparty):
    return BoardFactory()


@builds(Product)
def _product(owner, counterparty):
    return ProductFactory(provider=owner)


@builds(PricingPlan)
def _plan(owner, counterparty):
    return PlanFactory(product=ProductFactory(provider=owner))


@builds(ProductReview)
def _review(owner, counterparty):
    return ReviewFactory(product=ProductFactory(provider=owner, status="submitted"))


@builds(ProductRevision)
def _revision(owner, counterparty):
    return RevisionFactory(product=ProductFactory(provider=owner))


@builds(RevisionPlan)
def _revision_plan(owner, counterparty):
    revision = RevisionFactory(product=ProductFactory(provider=owner))
    return RevisionPlan.objects.create(revision=revision, kind="one_off", price_fen=5_00)
