import datetime as dt

import factory
from django.utils import timezone

from publicdata.models import (
    CatalogEntry,
    Department,
    Grant,
    GrantEvent,
    Scenario,
    ScenarioAssessment,
    ScenarioAuthorization,
    ScenarioEvent,
)
from tests.factories.accounts import MerchantFactory
from tests.factories.world import builds


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
    """An active grant, valid from 30 days ago for a year (bypasses the services)."""

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
    """A scenario in force: a passing assessment and an authorization over the grant's window.

    `ScenarioFactory(status="proposed")` gives a bare scenario awaiting assessment.
    """

    class Meta:
        model = Scenario
        skip_postgeneration_save = True

    grant = factory.SubFactory(GrantFactory)
    name = factory.Sequence(lambda n: f"Scenario {n}")
    description = "Site selection for retail outlets"
    purpose = "industry"
    status = "authorized"

    @factory.post_generation
    def paperwork(obj, create, extracted, **kwargs):
        if not create or obj.status == "proposed":
            return
        verdict = "fail" if obj.status == "failed" else "pass"
        ScenarioAssessment.objects.create(
            scenario=obj,
            assessor="Provincial data security assessment panel",
            assessed_on=timezone.localdate(),
            risk_findings="No personal data leaves the domain.",
            verdict=verdict,
        )
        if obj.status in ("authorized", "expired"):
            ScenarioAuthorization.objects.create(
                scenario=obj,
                document_number=f"SQ-{obj.pk:06d}",
                valid_from=obj.grant.valid_from,
                valid_until=obj.grant.valid_until,
            )


@builds(Grant)
def _grant(owner, counterparty):
    return GrantFactory(grantee=owner)


@builds(GrantEvent)
def _grant_event(owner, counterparty):
    return GrantEvent.objects.create(
        subject=GrantFactory(grantee=owner), from_status="pending", to_status="active"
    )


@builds(Scenario)
def _scenario(owner, counterparty):
    return ScenarioFactory(grant=GrantFactory(grantee=owner))


@builds(ScenarioEvent)
def _scenario_event(owner, counterparty):
    scenario = ScenarioFactory(grant=GrantFactory(grantee=owner))
    return ScenarioEvent.objects.create(
        subject=scenario, from_status="assessed", to_status="authorized"
    )


@builds(ScenarioAssessment)
def _assessment(owner, counterparty):
    return ScenarioFactory(grant=GrantFactory(grantee=owner)).assessment


@builds(ScenarioAuthorization)
def _authorization(owner, counterparty):
    return ScenarioFactory(grant=GrantFactory(grantee=owner)).authorization


@builds(Department)
def _department(owner, counterparty):
    return DepartmentFactory()


@builds(CatalogEntry)
def _catalog_entry(owner, counterparty):
    return CatalogEntryFactory()
