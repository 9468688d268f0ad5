"""Operators review products in the admin: checklists ticked item by item, approve or send
back, two different operators for important grade; suspend, reinstate and delist."""

import pytest
from django.urls import reverse

from products import services
from products.choices import COMPLIANCE_CHECKLIST, QUALITY_CHECKLIST

pytestmark = pytest.mark.django_db


def every_item(**extra):
    data = {f"compliance__{k}": "on" for k in COMPLIANCE_CHECKLIST}
    data.update({f"quality__{k}": "on" for k in QUALITY_CHECKLIST})
    return {**data, **extra}


def review_url(product):
    return reverse("admin:products_product_review", args=[product.pk])


@pytest.fixture
def submitted(make_draft, owner_a):
    def make(**kwargs):
        product = make_draft(owner_a, **kwargs)
        return services.product_submit(actor=owner_a, product=product)

    return make


def test_operator_approves_a_submitted_product_on_its_review_page(client, operator, submitted):
    # given
    product = submitted()
    client.force_login(operator)
    page = client.get(review_url(product))
    assert page.status_code == 200
    assert str(COMPLIANCE_CHECKLIST["source_lawful"]) in page.content.decode()
    # when
    response = client.post(review_url(product), every_item(_approve="1", comments="好"))
    # then
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.status == "listed"
    assert product.registration_number
    assert product.events.filter(to_status="listed", actor=operator).exists()


def test_an_unticked_item_keeps_the_product_in_review(client, operator, submitted):
    product = submitted()
    client.force_login(operator)
    data = every_item(_approve="1")
    data.pop("quality__pricing_clear")
    response = client.post(review_url(product), data)
    assert response.status_code == 200
    product.refresh_from_db()
    assert product.status == "in_review"


def test_important_grade_needs_two_different_operators(
    client, operator, second_operator, submitted
):
    # given
    product = submitted(grade="important")
    client.force_login(operator)
    # when the same operator approves twice
    client.post(review_url(product), every_item(_approve="1"))
    client.post(review_url(product), every_item(_approve="1"))
    product.refresh_from_db()
    # then it waits for a second operator
    assert product.status == "in_review"
    client.force_login(second_operator)
    client.post(review_url(product), every_item(_approve="1"))
    product.refresh_from_db()
    assert product.status == "listed"


def test_operator_sends_a_product_back_with_comments(client, operator, submitted):
    product = submitted()
    client.force_login(operator)
    response = client.post(review_url(product), {"_reject": "1", "comments": "样例数据缺字段"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.status == "draft"
    assert product.reviews.filter(verdict="rejected", comments="样例数据缺字段").exists()


def test_merchants_cannot_open_the_review_page(client, owner_a, submitted):
    product = submitted()
    client.force_login(owner_a)
    assert client.get(review_url(product)).status_code == 403
    assert client.post(review_url(product), every_item(_approve="1")).status_code == 403
    product.refresh_from_db()
    assert product.status == "submitted"


def test_operator_suspends_reinstates_and_delists_with_a_reason(
    client, operator, make_listed, owner_a
):
    product = make_listed(owner_a)
    client.force_login(operator)
    url = reverse("admin:products_product_changelist")

    def act(action, reason="核查中"):
        client.post(url, {"action": action, "_selected_action": [product.pk], "reason": reason})
        product.refresh_from_db()
        return product.status

    assert act("suspend", reason="") == "listed"  # a reason is owed
    assert act("suspend") == "suspended"
    assert act("reinstate") == "listed"
    assert act("delist") == "delisted"


def _submitted_revision(owner, product, title):
    revision = services.revision_open(actor=owner, product=product, change_note="new title")
    services.revision_update(actor=owner, revision=revision, title=title)
    return services.revision_submit(actor=owner, revision=revision)


def test_operator_reviews_a_revision_on_its_page(client, operator, owner_a, make_listed):
    # given a listed product with a new version submitted
    product = make_listed(owner_a, title="Rainfall v1")
    revision = _submitted_revision(owner_a, product, "Rainfall v2")
    url = reverse("admin:products_productrevision_review", args=[revision.pk])
    client.force_login(operator)
    change_page = client.get(reverse("admin:products_productrevision_change", args=[revision.pk]))
    assert url in change_page.content.decode()
    # when sent back without comments, then refused on the field and nothing moves
    refused = client.post(url, every_item(decision="reject"))
    assert refused.status_code == 200
    assert "comments" in refused.context["form"].errors
    revision.refresh_from_db()
    assert revision.status == "submitted"
    # when approved with every item ticked
    response = client.post(url, every_item(decision="approve"))
    # then the new version is the listed one
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.title, product.version) == ("Rainfall v2", 2)


def test_an_important_revision_needs_a_second_operator_in_the_admin(
    client, operator, owner_a, make_draft
):
    # given an important-grade listed product (two approvals) with a submitted revision
    from tests.factories.accounts import OperatorFactory
    from tests.factories.products import ALL_TICKED

    second = OperatorFactory()
    product = make_draft(owner_a, grade="important", title="Census v1")
    services.product_submit(actor=owner_a, product=product)
    services.product_start_review(actor=operator, product=product)
    services.product_approve(actor=operator, product=product, **ALL_TICKED)
    product = services.product_approve(actor=second, product=product, **ALL_TICKED)
    assert product.status == "listed"
    revision = _submitted_revision(owner_a, product, "Census v2")
    url = reverse("admin:products_productrevision_review", args=[revision.pk])
    # when one operator approves twice
    client.force_login(operator)
    client.post(url, every_item(decision="approve"))
    again = client.post(url, every_item(decision="approve"))
    # then the second approval by the same operator is refused on the form
    assert again.status_code == 200
    assert again.context["form"].non_field_errors()
    product.refresh_from_db()
    assert product.version == 1
    # when a different operator approves, the new version is listed
    client.force_login(second)
    assert client.post(url, every_item(decision="approve")).status_code == 302
    product.refresh_from_db()
    assert (product.title, product.version) == ("Census v2", 2)
