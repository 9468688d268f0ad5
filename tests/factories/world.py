"""One record of every merchant-owned model, for the isolation test.

Each app registers a builder for each model it shows in the admin or the API:
`builder(owner, counterparty)` returns a record that belongs to `owner`
(and, for two-sided records such as orders, to `counterparty` too). The
isolation test checks that a third merchant never sees or changes it.
"""

from collections.abc import Callable

from django.db.models import Model

from accounts.models import (
    Merchant,
    MerchantApplication,
    MerchantApplicationEvent,
    MerchantEvent,
    User,
)
from tests.factories.accounts import PersonFactory

Builder = Callable[[Merchant, Merchant], Model]
BUILDERS: dict[type[Model], Builder] = {}


def builds(model: type[Model]):
    def register(builder: Builder) -> Builder:
        BUILDERS[model] = builder
        return builder

    return register


@builds(Merchant)
def _merchant(owner: Merchant, counterparty: Merchant) -> Model:
    return owner


@builds(User)
def _person(owner: Merchant, counterparty: Merchant) -> Model:
    return PersonFactory.create(merchant=owner, merchant_role="staff")


@builds(MerchantEvent)
def _merchant_event(owner: Merchant, counterparty: Merchant) -> Model:
    return MerchantEvent.objects.create(subject=owner, from_status="applied", to_status="active")


@builds(MerchantApplication)
def _application(owner: Merchant, counterparty: Merchant) -> Model:
    return MerchantApplication.objects.get_or_create(
        merchant=owner,
        defaults={
            "owner_username": f"applicant{owner.pk}",
            "owner_email": f"applicant{owner.pk}@merchant.example",
            "licence_scan": "merchant-licences/scan.png",
        },
    )[0]


@builds(MerchantApplicationEvent)
def _application_event(owner: Merchant, counterparty: Merchant) -> Model:
    return _application(owner, counterparty).events.create(to_status="submitted")


def load_all_builders() -> None:
    """Import every app's builders (each lives in tests/factories/<app>.py)."""
    import importlib

    for app in (
        "products",
        "publicdata",
        "marketplace",
        "settlements",
        "oversight",
        "interchange",
        "querying",
        "delivery",
    ):
        try:
            importlib.import_module(f"tests.factories.{app}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.factories.{app}":
                raise
