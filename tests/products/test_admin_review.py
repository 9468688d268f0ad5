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
