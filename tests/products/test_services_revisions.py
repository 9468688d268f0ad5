import pytest

from core.exceptions import BusinessRuleViolation, InvalidTransition
from products import services
from products.models import PricingPlan, Product, ProductVersion
from tests.factories.products import ALL_TICKED

pytestmark = pytest.mark.django_db


def test_a_new_version_is_reviewed_while_the_listed_version_keeps_selling(
    owner_a, operator, make_listed
):
    # given a listed product with one plan on sale
    product = make_listed(owner_a, title="Rainfall v1", price_fen=100_00)
    old_plan = product.plans.get()
    # when the merchant edits it: new title and a new price, submitted for review
    revision = services.revision_open(actor=owner_a, product=product, change_note="new price")
    services.revision_update(actor=owner_a, revision=revision, title="Rainfall v2")
    revision_plan = revision.plans.get()
    services.revision_plan_update(actor=owner_a, plan=revision_plan, price_fen=150_00)
    services.revision_submit(actor=owner_a, revision=revision)
    services.revision_start_review(actor=operator, revision=revision)
    # then, while it is under review, the listed version sells unchanged
    product.refresh_from_db()
    assert product.status == "listed"
    assert (product.title, product.version) == ("Rainfall v1", 1)
    assert list(product.plans.filter(is_active=True)) == [old_plan]
    assert product.min_price_fen == 100_00
    # when the revision is approved
    services.revision_approve(actor=operator, revision=revision, **ALL_TICKED)
    # then the product carries version 2, the old plan is switched off (not edited)
    product.refresh_from_db()
    assert (product.title, product.version, product.status) == ("Rainfall v2", 2, "listed")
    old_plan.refresh_from_db()
    assert (old_plan.is_active, old_plan.price_fen) == (False, 100_00)
    new_plan = PricingPlan.objects.get(product=product, is_active=True)
    assert new_plan.price_fen == 150_00
    assert product.min_price_fen == 150_00
    versions = ProductVersion.objects.filter(product=product).order_by("number")
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].content["title"] == "Rainfall v1"
    assert versions[0].plans[0]["id"] == old_plan.pk
    # and the registration number stayed the same
    assert product.registration_number.startswith("HNDP-")


def test_a_rejected_revision_leaves_the_listed_version_untouched(owner_a, operator, make_listed):
    product = make_listed(owner_a, title="Stable")
    revision = services.revision_open(actor=owner_a, product=product)
    services.revision_update(actor=owner_a, revision=revision, title="Broken")
    services.revision_submit(actor=owner_a, revision=revision)
    services.revision_start_review(actor=operator, revision=revision)
    revision = services.revision_reject(actor=operator, revision=revision, comments="no")
    assert revision.status == "draft"
    product.refresh_from_db()
    assert (product.title, product.version) == ("Stable", 1)


def test_a_revision_to_core_grade_is_refused(owner_a, make_listed):
    product = make_listed(owner_a)
    revision = services.revision_open(actor=owner_a, product=product)
    services.revision_update(actor=owner_a, revision=revision, grade="core")
    with pytest.raises(BusinessRuleViolation) as err:
        services.revision_submit(actor=owner_a, revision=revision)
    assert err.value.field == "grade"


def test_a_revision_to_important_grade_needs_two_operators(
    owner_a, operator, second_operator, make_listed
):
    product = make_listed(owner_a)
    revision = services.revision_open(actor=owner_a, product=product)
    services.revision_update(actor=owner_a, revision=revision, grade="important")
    services.revision_submit(actor=owner_a, revision=revision)
    services.revision_start_review(actor=operator, revision=revision)
    revision = services.revision_approve(actor=operator, revision=revision, **ALL_TICKED)
    assert revision.status == "in_review"
    with pytest.raises(BusinessRuleViolation):
        services.revision_approve(actor=operator, revision=revision, **ALL_TICKED)
    revision = services.revision_approve(actor=second_operator, revision=revision, **ALL_TICKED)
    assert revision.status == "approved"
    assert Product.objects.get(pk=product.pk).grade == "important"


def test_only_one_revision_is_open_at_a_time(owner_a, make_listed):
    product = make_listed(owner_a)
    first = services.revision_open(actor=owner_a, product=product)
    again = services.revision_open(actor=owner_a, product=product)
    assert first.pk == again.pk


def test_drafts_are_edited_directly_and_listed_products_are_not(owner_a, make_draft, make_listed):
    draft = make_draft(owner_a)
    with pytest.raises(BusinessRuleViolation):
        services.revision_open(actor=owner_a, product=draft)
    listed = make_listed(owner_a, title="listed")
    with pytest.raises(BusinessRuleViolation) as err:
        services.product_update(actor=owner_a, product=listed, title="sneaky")
    assert err.value.code == "not_draft"
    with pytest.raises(BusinessRuleViolation):
        services.plan_update(actor=owner_a, plan=listed.plans.get(), price_fen=1)


def test_delisting_withdraws_an_open_revision(owner_a, operator, make_listed):
    product = make_listed(owner_a)
    revision = services.revision_open(actor=owner_a, product=product)
    services.revision_submit(actor=owner_a, revision=revision)
    services.product_delist(actor=operator, product=product, reason="ends")
    revision.refresh_from_db()
    assert revision.status == "withdrawn"
    with pytest.raises(InvalidTransition):
        services.revision_start_review(actor=operator, revision=revision)


def test_an_approved_revision_is_final(owner_a, operator, make_listed):
    product = make_listed(owner_a)
    revision = services.revision_open(actor=owner_a, product=product)
    services.revision_submit(actor=owner_a, revision=revision)
    services.revision_start_review(actor=operator, revision=revision)
    services.revision_approve(actor=operator, revision=revision, **ALL_TICKED)
    with pytest.raises(InvalidTransition):
        services.revision_withdraw(actor=owner_a, revision=revision)
    with pytest.raises(BusinessRuleViolation):
        services.revision_update(actor=owner_a, revision=revision, title="late")
