import factory

from interchange.models import HarvestRun, PartnerExchange, PartnerRecord, RegistrationRecognition
from tests.factories.products import ProductFactory
from tests.factories.world import builds


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerExchange

    name = factory.Sequence(lambda n: f"Partner exchange {n}")
    catalog_url = factory.Sequence(lambda n: f"https://partner-{n}.example/api/v1/catalog/")
    changes_url = factory.LazyAttribute(lambda o: o.catalog_url + "changes")
    trust_level = "trusted"


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HarvestRun

    partner = factory.SubFactory(PartnerFactory)
    status = "succeeded"


class PartnerRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerRecord

    partner = factory.SubFactory(PartnerFactory)
    iri = factory.Sequence(lambda n: f"https://partner.example/api/v1/catalog/datasets/P-{n}")
    identifier = factory.Sequence(lambda n: f"P-{n}")
    registration_number = factory.LazyAttribute(lambda o: o.identifier)
    raw = "<urn:x> <urn:y> <urn:z> .\n"
    content_hash = "0" * 64
    status = "listed"
    title = factory.Sequence(lambda n: f"Partner data {n}")
    grade = "general"
    delivery_mode = "file"
    first_run = factory.LazyAttribute(lambda o: RunFactory(partner=o.partner))
    last_changed_run = factory.LazyAttribute(lambda o: o.first_run)


@builds(PartnerExchange)
def _partner(owner, counterparty):
    return PartnerFactory()


@builds(HarvestRun)
def _run(owner, counterparty):
    return RunFactory()


@builds(PartnerRecord)
def _partner_record(owner, counterparty):
    return PartnerRecordFactory()


@builds(RegistrationRecognition)
def _recognition(owner, counterparty):
    product = ProductFactory(provider=owner, status="draft")
    record = PartnerRecordFactory(publisher_credit_code=owner.credit_code)
    return RegistrationRecognition.objects.create(
        product=product,
        partner=record.partner,
        partner_record=record,
        registration_number=record.registration_number,
    )
