import datetime as dt

import factory
from django.utils import timezone

from publicdata.models import CatalogEntry, Department, Grant, Scenario
from tests.factories.accounts import MerchantFactory


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"HN-DEPT-{n:03d}")
    name = factory.Sequence(lambda n: f"Hunan Provincial Department {n}")
    level = "province"
    region = "430100"


class CatalogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogEntry

    department = factory.SubFactory(DepartmentFactory)
    code = factory.Sequence(lambda n: f"CAT-{n:06d}")
    name = factory.Sequence(lambda n: f"Resource {n}")
    fields = "id, name, value"
    grade = "general"
    update_frequency = "daily"


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grant

    department = factory.SubFactory(DepartmentFactory)
    industry = factory.SubFactory("tests.factories.products.IndustryFactory")
    grantee = factory.SubFactory(MerchantFactory)
    valid_from = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    valid_until = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=365))
    revenue_share_bps = 1000
    fee_ceiling_fen = 10_000_000
    status = "active"


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario

    grant = factory.SubFactory(GrantFactory)
    name = factory.Sequence(lambda n: f"Scenario {n}")
    description = "Site selection for retail outlets"
    purpose = "industry"
