import pytest
from django.urls import reverse

from products.models import PricingPlan, Product, ProductRevision
from tests.factories.products import MANUAL, IndustryFactory, ProductFactory, ReviewFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:products_product_changelist")
ADD = reverse("admin:products_product_add")


def change_url(product):
    return reverse("admin:products_product_change", args=[product.pk])


def plan_formset(prefix="plans", rows=()):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def product_form(industry, **extra):
    return {
        "title": "Soil moisture grid",
        "summary": "1 km grid",
        "industry": industry.pk,
        "source_kind": "own",
        "grade": "general",
        "delivery_mode": "file",
        "volume_bytes": "1000",
        "tags": "soil",
        **MANUAL,
        **extra,
    }


def test_merchant_creates_a_draft_with_a_plan_in_the_admin(client, owner_a):
    # given a merchant's person signed in to the admin
    industry = IndustryFactory(code="agriculture")
    client.force_login(owner_a)
    # when they add a product with a monthly subscription plan
    data = {
        **product_form(industry),
        **plan_formset(rows=[{"kind": "subscription", "period": "month", "price": "99.00",
                              "included_calls": "0", "name": "Monthly"}]),
        **plan_formset("reviews"),
        **plan_formset("events"),
    }  # fmt: skip
    response = client.post(ADD, data)
    # then the draft belongs to their merchant and has the plan
    assert response.status_code == 302, response.context["adminform"].form.errors
    product = Product.objects.get(title="Soil moisture grid")
    assert product.provider == owner_a.merchant
    assert product.status == "draft"
    plan = PricingPlan.objects.get(product=product)
    assert (plan.kind, plan.period, plan.price_fen) == ("subscription", "month", 9900)
    assert product.min_price_fen == 9900


def test_a_plan_that_does_not_fit_its_kind_is_a_form_error(client, owner_a):
    industry = IndustryFactory(code="agriculture")
    client.force_login(owner_a)
    data = {
        **product_form(industry),
        **plan_formset(rows=[{"kind": "subscription", "price": "99",
                              "included_calls": "0"}]),
        **plan_formset("reviews"),
        **plan_formset("events"),
    }  # fmt: skip
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "period" in response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert not Product.objects.exists()


def test_merchant_submits_with_the_admin_action_but_cannot_approve(client, owner_a):
    # given a complete draft with a plan
    product = ProductFactory(provider=owner_a.merchant, status="draft")
    PricingPlan.objects.create(product=product, kind="one_off", price_fen=100)
    client.force_login(owner_a)
    # when the merchant runs the submit action
    client.post(CHANGELIST, {"action": "submit", "_selected_action": [product.pk]})
    # then it is submitted
    product.refresh_from_db()
    assert product.status == "submitted"
    # and no approve action exists for them
    page = client.get(CHANGELIST)
    actions = [name for name, _label in page.context["action_form"].fields["action"].choices]
    assert "submit" in actions
    assert not any("approve" in name or name == "list" for name in actions)


def test_merchant_reads_review_comments_on_the_product_page(client, owner_a):
    product = ProductFactory(provider=owner_a.merchant, status="draft")
    ReviewFactory(product=product, verdict="rejected", comments="Add the station list.")
    client.force_login(owner_a)
    response = client.get(change_url(product))
    assert response.status_code == 200
    assert "Add the station list." in response.content.decode()


def test_a_listed_product_is_read_only_for_its_merchant(client, owner_a):
    product = ProductFactory(provider=owner_a.merchant)
    client.force_login(owner_a)
    response = client.post(change_url(product), {"title": "changed"})
    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).title == product.title


def test_merchant_never_sees_another_merchants_drafts_in_the_admin(client, owner_a, merchant_b):
    mine = ProductFactory(provider=owner_a.merchant, status="draft")
    theirs = ProductFactory(provider=merchant_b, status="draft")
    client.force_login(owner_a)
    listed = client.get(CHANGELIST)
    assert list(listed.context["cl"].queryset) == [mine]
    assert client.get(change_url(theirs)).status_code == 302


def test_merchant_asks_for_delisting_and_opens_a_new_version_by_admin_actions(client, owner_a):
    product = ProductFactory(provider=owner_a.merchant)
    PricingPlan.objects.create(product=product, kind="one_off", price_fen=100)
    client.force_login(owner_a)
    client.post(
        CHANGELIST,
        {"action": "request_delisting", "_selected_action": [product.pk], "reason": "ends"},
    )
    client.post(CHANGELIST, {"action": "open_revision", "_selected_action": [product.pk]})
    product.refresh_from_db()
    assert product.delisting_requested_at is not None
    assert product.status == "listed"
    revision = ProductRevision.objects.get(product=product)
    assert revision.plans.count() == 1
    page = client.get(reverse("admin:products_productrevision_change", args=[revision.pk]))
    assert page.status_code == 200


def test_operator_sees_every_product_but_edits_none_in_the_admin(client, operator, merchant_b):
    product = ProductFactory(provider=merchant_b, status="draft")
    client.force_login(operator)
    assert product in client.get(CHANGELIST).context["cl"].queryset
    response = client.post(change_url(product), {"title": "x"})
    assert response.status_code == 403


def test_a_draft_plan_is_shown_in_yuan_and_repriced_in_yuan(client, owner_a):
    # given a draft with a metered plan of 0.05 yuan per call
    product = ProductFactory(provider=owner_a.merchant, status="draft")
    plan = PricingPlan.objects.create(product=product, kind="metered", unit_price_fen=5)
    client.force_login(owner_a)
    page = client.get(change_url(product))
    plan_form = page.context["inline_admin_formsets"][0].formset.forms[0]
    assert plan_form.initial["unit_price"] == "0.05"
    # when the merchant sets 0.08 yuan per call and a 300 yuan monthly cap
    data = {
        **product_form(product.industry, title=product.title),
        **plan_formset(rows=[{"id": plan.pk, "product": product.pk, "kind": "metered",
                              "unit_price": "0.08", "monthly_cap": "300", "included_calls": "0"}]),
        **plan_formset("reviews"),
        **plan_formset("events"),
    }  # fmt: skip
    data["plans-INITIAL_FORMS"] = "1"
    response = client.post(change_url(product), data)
    # then the plan holds fen
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.unit_price_fen, plan.monthly_cap_fen) == (8, 300_00)
