"""A merchant lists from the product's page: submit, follow the review and its checklists,
answer a rejection and submit again; new versions of a listed product the same way."""

import pytest
from django.urls import reverse

from products import services
from products.choices import COMPLIANCE_CHECKLIST
from tests.factories.products import ALL_TICKED

pytestmark = pytest.mark.django_db


def page(product):
    return reverse("admin:products_product_change", args=[product.pk])


def step(client, subject, name, url_name="admin:products_product_step", **data):
    return client.post(reverse(url_name, args=[subject.pk, name]), data, follow=True)


def steps_on(client, url):
    return [s.name for s, _url in client.get(url).context["listing_steps"]]


def approve(operator, product):
    product = services.product_start_review(actor=operator, product=product)
    return services.product_approve(
        actor=operator,
        product=product,
        compliance_checklist=ALL_TICKED["compliance_checklist"],
        quality_checklist=ALL_TICKED["quality_checklist"],
    )


def test_the_merchant_submits_from_the_products_page(client, owner_a, make_draft):
    # given a complete draft
    product = make_draft(owner_a)
    client.force_login(owner_a)
    assert steps_on(client, page(product)) == ["submit"]
    # when the owner presses submit on the product's page
    response = step(client, product, "submit")
    # then it is submitted, and the page offers to take it back
    product.refresh_from_db()
    assert product.status == "submitted"
    assert response.redirect_chain[-1][0] == page(product)
    assert steps_on(client, page(product)) == ["withdraw"]


def test_a_rejection_shows_what_the_reviewers_asked_and_is_submitted_again(
    client, owner_a, operator, make_draft
):
    # given a product sent back with one compliance item unticked
    product = services.product_submit(actor=owner_a, product=make_draft(owner_a))
    product = services.product_start_review(actor=operator, product=product)
    compliance = {**ALL_TICKED["compliance_checklist"], "usage_restrictions": False}
    services.product_reject(
        actor=operator,
        product=product,
        comments="State the usage restrictions.",
        compliance_checklist=compliance,
        quality_checklist=ALL_TICKED["quality_checklist"],
    )
    client.force_login(owner_a)
    # when the owner opens the product's page
    response = client.get(page(product))
    html = response.content.decode()
    # then the comments and each checklist item read as labelled items, the missing one marked
    assert response.context["listing_review_returned"]
    assert "State the usage restrictions." in html
    assert f'<li class="no">✗ {COMPLIANCE_CHECKLIST["usage_restrictions"]}</li>' in html
    assert f'<li class="yes">✓ {COMPLIANCE_CHECKLIST["source_lawful"]}</li>' in html
    assert '"usage_restrictions"' not in html
    # and it is submitted again from there
    step(client, product, "submit")
    product.refresh_from_db()
    assert product.status == "submitted"


def test_a_listed_products_plans_show_their_prices_as_saved(client, owner_a, operator, make_draft):
    product = approve(operator, services.product_submit(actor=owner_a, product=make_draft(owner_a)))
    client.force_login(owner_a)
    html = client.get(page(product)).content.decode()
    assert "¥100.00" in html
    assert ">None<" not in html


def test_a_new_version_is_opened_and_submitted_from_the_pages(
    client, owner_a, operator, make_draft
):
    # given a listed product
    product = approve(operator, services.product_submit(actor=owner_a, product=make_draft(owner_a)))
    client.force_login(owner_a)
    assert steps_on(client, page(product)) == ["open_revision"]
    # when the owner opens a new version from the product's page
    response = step(client, product, "open_revision", note="adds 2025 data")
    revision = product.revisions.get()
    revision_page = reverse("admin:products_productrevision_change", args=[revision.pk])
    assert response.redirect_chain[-1][0] == revision_page
    assert revision.change_note == "adds 2025 data"
    # and submits it from the revision's page
    assert steps_on(client, revision_page) == ["submit", "withdraw"]
    step(client, revision, "submit", url_name="admin:products_productrevision_step")
    revision.refresh_from_db()
    assert revision.status == "submitted"
    product.refresh_from_db()
    assert product.status == "listed"


def test_another_merchant_or_an_operator_cannot_take_the_steps(
    client, owner_a, owner_b, operator, make_draft
):
    product = make_draft(owner_a)
    url = reverse("admin:products_product_step", args=[product.pk, "submit"])
    client.force_login(owner_b)
    assert client.post(url).status_code == 404
    client.force_login(operator)
    assert client.post(url).status_code == 403
    assert steps_on(client, page(product)) == []
    product.refresh_from_db()
    assert product.status == "draft"


def test_a_merchants_product_list_has_no_provider_column(client, owner_a, make_draft):
    make_draft(owner_a)
    client.force_login(owner_a)
    changelist = client.get(reverse("admin:products_product_changelist"))
    assert "provider" not in changelist.context["cl"].list_display
