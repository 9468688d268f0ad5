"""登记互认: a registration at a trusted partner, checked against its catalog, shortens
our review to compliance only."""

import pytest

from core.exceptions import BusinessRuleViolation
from interchange import services
from products import services as product_services
from tests.factories.interchange import PartnerRecordFactory
from tests.factories.products import ALL_TICKED

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered_there(merchant_a):
    """The partner's listing of merchant A's product, registered there as HNP-2025-000007."""
    return PartnerRecordFactory(
        registration_number="HNP-2025-000007",
        publisher_credit_code=merchant_a.credit_code,
        partner__trust_level="trusted",
    )


def _claim(owner, product, record, number="HNP-2025-000007"):
    return services.recognition_create(
        actor=owner, product=product, partner=record.partner, registration_number=number
    )


def test_a_recognised_product_is_approved_on_the_compliance_checklist_alone(
    make_draft, owner_a, operator, registered_there
):
    # given a draft claiming the partner's registration
    product = make_draft(owner_a)
    _claim(owner_a, product, registered_there)
    # when it is submitted and reviewed with the compliance checklist only
    product_services.product_submit(actor=owner_a, product=product)
    product_services.product_start_review(actor=operator, product=product)
    review = product.reviews.get()
    assert review.compliance_only
    listed = product_services.product_approve(
        actor=operator,
        product=product,
        compliance_checklist=ALL_TICKED["compliance_checklist"],
        quality_checklist={},
    )
    # then it is listed
    assert listed.status == "listed"


def test_without_recognition_the_quality_checklist_is_still_required(make_draft, owner_a, operator):
    product = make_draft(owner_a)
    product_services.product_submit(actor=owner_a, product=product)
    product_services.product_start_review(actor=operator, product=product)
    with pytest.raises(BusinessRuleViolation) as refused:
        product_services.product_approve(
            actor=operator, product=product,
            compliance_checklist=ALL_TICKED["compliance_checklist"], quality_checklist={},
        )  # fmt: skip
    assert refused.value.field == "quality_checklist"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": "HNP-2025-999999"}, "registration_number"),
        ({"trust": "standard"}, "partner"),
        ({"other_provider": True}, "registration_number"),
        ({"record_status": "delisted"}, "registration_number"),
        ({"submitted": True}, "product"),
    ],
)
def test_a_claim_is_checked_against_the_partners_catalog(
    make_draft, owner_a, merchant_b, registered_there, change, field
):
    product = make_draft(owner_a)
    record = registered_there
    if "trust" in change:
        record.partner.trust_level = change["trust"]
        record.partner.save()
    if change.get("other_provider"):
        record.publisher_credit_code = merchant_b.credit_code
        record.save()
    if "record_status" in change:
        record.status = change["record_status"]
        record.save()
    if change.get("submitted"):
        product_services.product_submit(actor=owner_a, product=product)
    with pytest.raises(BusinessRuleViolation) as refused:
        _claim(owner_a, product, record, change.get("number", "HNP-2025-000007"))
    assert refused.value.field == field
    assert not product.registration_recognitions.exists()


def test_a_merchant_cannot_claim_for_another_merchants_product(
    api_client, make_draft, owner_a, owner_b, registered_there
):
    product = make_draft(owner_a)
    response = api_client(owner_b).post(
        "/api/v1/registration-recognitions/",
        {"product": product.pk, "partner": registered_there.partner.pk,
         "registration_number": "HNP-2025-000007"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "product" in response.json()
    assert not product.registration_recognitions.exists()


def test_a_vanished_partner_listing_withdraws_the_recognition(
    make_draft, owner_a, registered_there
):
    from interchange.services import _delist, _Tally

    recognition = _claim(owner_a, make_draft(owner_a), registered_there)
    _delist(registered_there, reason="gone", tally=_Tally())
    recognition.refresh_from_db()
    assert recognition.status == "withdrawn"
