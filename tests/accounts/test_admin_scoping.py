import pytest
from django.urls import reverse

from tests.factories.accounts import PersonFactory

pytestmark = pytest.mark.django_db


def change_url(merchant):
    return reverse("admin:accounts_merchant_change", args=[merchant.pk])


def test_merchant_person_sees_only_own_merchant_in_changelist(
    client, owner_a, merchant_a, merchant_b
):
    client.force_login(owner_a)
    response = client.get(reverse("admin:accounts_merchant_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [merchant_a]


def test_typed_url_of_another_merchant_does_not_open(client, owner_a, merchant_b):
    client.force_login(owner_a)
    response = client.get(change_url(merchant_b))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_merchant_person_edits_own_profile_but_status_and_code_are_read_only(
    client, owner_a, merchant_a
):
    # given
    client.force_login(owner_a)
    page = client.get(change_url(merchant_a))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "status" not in form.fields
    assert "credit_code" not in form.fields
    # when
    data = {
        "legal_name": merchant_a.legal_name,
        "kinds": ["supplier", "service"],
        "region": "430300",
        "address": "",
        "contact_name": "New Contact",
        "contact_phone": merchant_a.contact_phone,
        "contact_email": "",
        "bank_name": "",
        "bank_account_name": "",
        "bank_account_number": "",
        "status": "exited",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    response = client.post(change_url(merchant_a), data)
    # then
    assert response.status_code == 302, (
        getattr(response, "context", None) and response.context["adminform"].form.errors
    )
    merchant_a.refresh_from_db()
    assert merchant_a.contact_name == "New Contact"
    assert merchant_a.region == "430300"
    assert merchant_a.kinds == ["supplier", "service"]
    assert merchant_a.status == "active"


def test_merchant_person_has_no_status_actions(client, owner_a, merchant_a):
    client.force_login(owner_a)
    response = client.post(
        reverse("admin:accounts_merchant_changelist"),
        {"action": "suspend", "_selected_action": [merchant_a.pk], "reason": "x"},
    )
    merchant_a.refresh_from_db()
    assert merchant_a.status == "active"
    assert response.status_code in (200, 302)


def test_operator_sees_every_merchant_and_suspends_with_a_reason(
    client, operator, merchant_a, merchant_b
):
    client.force_login(operator)
    listing = client.get(reverse("admin:accounts_merchant_changelist"))
    assert set(listing.context["cl"].queryset) >= {merchant_a, merchant_b}
    assert client.get(change_url(merchant_b)).status_code == 200
    client.post(
        reverse("admin:accounts_merchant_changelist"),
        {"action": "suspend", "_selected_action": [merchant_b.pk], "reason": "audit hold"},
    )
    merchant_b.refresh_from_db()
    assert merchant_b.status == "suspended"
    assert merchant_b.events.latest("id").reason == "audit hold"


def test_merchant_person_sees_only_colleagues(client, owner_a, merchant_a, owner_b):
    colleague = PersonFactory(merchant=merchant_a, merchant_role="staff")
    client.force_login(owner_a)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert set(response.context["cl"].queryset) == {owner_a, colleague}
    typed = client.get(reverse("admin:accounts_user_change", args=[owner_b.pk]))
    assert typed.status_code == 302
