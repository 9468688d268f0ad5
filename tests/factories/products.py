import factory

from products.models import Board, Industry, PricingPlan, Product
from tests.factories.accounts import MerchantFactory
from tests.factories.world import builds


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
    """A product; status defaults to listed so trading tests can buy it at once."""

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
    registration_number = factory.Sequence(lambda n: f"HNDX-2026-{n:06d}")
    volume_bytes = 1024


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricingPlan

    product = factory.SubFactory(ProductFactory)
    name = "One-off"
    kind = "one_off"
    price_fen = 100_00


@builds(Product)
def _product(owner, counterparty):
    return ProductFactory(provider=owner)


@builds(PricingPlan)
def _plan(owner, counterparty):
    return PlanFactory(product=ProductFactory(provider=owner))
