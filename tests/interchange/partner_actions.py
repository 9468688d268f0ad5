"""What the test does inside the second exchange (run there with its own database).

Each function goes through that exchange's real services and prints JSON for
the test to read: `python -m tests.interchange.partner_actions seed`.
"""

import json
import sys
from collections.abc import Callable

import django

PARTNER_PROVIDER_CREDIT_CODE = "91430100MA4T0001XR"


def _operator(number: int = 1):
    """The second exchange's operators; each call runs in a new process, so by name."""
    from accounts.models import User
    from tests.factories.accounts import OperatorFactory

    username = f"partner-operator-{number}"
    return User.objects.filter(username=username).first() or OperatorFactory(username=username)


def _list(owner, operator, industry, *, title, title_en, grade="general", mode="file"):
    from products import services
    from tests.factories.products import ALL_TICKED, MANUAL

    product = services.product_create(
        actor=owner, provider=owner.merchant, title=title, title_en=title_en,
        summary=f"{title}概要", industry=industry, delivery_mode=mode, grade=grade,
        tags="湖南, 互认", **MANUAL,
    )  # fmt: skip
    services.plan_create(actor=owner, product=product, kind="one_off", price_fen=500_00)
    services.product_submit(actor=owner, product=product)
    services.product_start_review(actor=operator, product=product)
    services.product_approve(actor=operator, product=product, **ALL_TICKED)
    if grade == "important":
        services.product_approve(actor=_operator(2), product=product, **ALL_TICKED)
    product.refresh_from_db()
    assert product.status == "listed", product.status
    return product.registration_number


def seed() -> dict:
    from tests.factories.accounts import MerchantFactory, PersonFactory
    from tests.factories.products import IndustryFactory

    operator = _operator()
    merchant = MerchantFactory(
        status="active", legal_name="长沙伙伴数据有限公司", credit_code=PARTNER_PROVIDER_CREDIT_CODE
    )
    owner = PersonFactory(merchant=merchant, merchant_role="owner")
    weather = IndustryFactory(code="weather", name="气象", name_en="Weather", data_theme="ENVI")
    return {
        "archive": _list(owner, operator, weather, title="湖南降水档案", title_en="Rain archive"),
        "api": _list(owner, operator, weather, title="短临预报接口", title_en="Nowcast API",
                     mode="api"),
        "important": _list(owner, operator, weather, title="雷达原始数据", title_en="Raw radar",
                           grade="important"),
    }  # fmt: skip


def revise(number: str, title: str) -> dict:
    from products import services
    from products.models import Product
    from tests.factories.products import ALL_TICKED

    product = Product.objects.get(registration_number=number)
    owner = product.provider.people.first()
    operator = _operator()
    revision = services.revision_open(actor=owner, product=product)
    services.revision_update(actor=owner, revision=revision, title=title)
    services.revision_plan_create(actor=owner, revision=revision, kind="one_off", price_fen=600_00)
    services.revision_submit(actor=owner, revision=revision)
    services.revision_start_review(actor=operator, revision=revision)
    services.revision_approve(actor=operator, revision=revision, **ALL_TICKED)
    return {"version": Product.objects.get(pk=product.pk).version}


def delist(number: str) -> dict:
    from products import services
    from products.models import Product

    product = Product.objects.get(registration_number=number)
    services.product_delist(actor=_operator(), product=product, reason="provider withdrew it")
    return {"status": Product.objects.get(pk=product.pk).status}


if __name__ == "__main__":
    django.setup()
    action, *args = sys.argv[1:]
    actions: dict[str, Callable[..., dict]] = {"seed": seed, "revise": revise, "delist": delist}
    print(json.dumps(actions[action](*args)))
