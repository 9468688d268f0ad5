"""People: an owner adds and deactivates its staff; nobody grants a right they do not hold;
every user has exactly one role. In the admin, through the API and in the services."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from accounts.services import people
from core.exceptions import BusinessRuleViolation
from tests.factories.accounts import MerchantFactory, OperatorFactory, PersonFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Xiang-jiang-2026!"
ADD_URL = reverse("admin:accounts_user_add")
CHANGELIST_URL = reverse("admin:accounts_user_changelist")


def change_url(person):
    return reverse("admin:accounts_user_change", args=[person.pk])


def add_form(**fields):
    return {
        "username": "new-person",
        "email": "new@merchant.example",
        "first_name": "",
        "last_name": "",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        **fields,
    }


@pytest.fixture
def staff_a(merchant_a):
    return PersonFactory(merchant=merchant_a, merchant_role="staff")


# --- nobody grants what they do not hold -------------------------------------------------


def test_an_operator_who_is_not_a_superuser_cannot_make_a_superuser(client, operator):
    # given
    client.force_login(operator)
    page = client.get(ADD_URL)
    assert "grant_superuser" not in page.context["adminform"].form.fields
    # when the operator forges the box on the add page and on the change page
    created = client.post(ADD_URL, add_form(kind="operator", grant_superuser="on"))
    assert created.status_code == 302, created.context and created.context["adminform"].form.errors
    person = User.objects.get(username="new-person")
    changed = client.post(
        change_url(person),
        {"first_name": "x", "last_name": "", "email": "", "is_superuser": "on", "is_active": "on"},
    )
    # then the new person is an operator, never a superuser
    assert changed.status_code == 302
    person.refresh_from_db()
    assert person.is_operator
    assert not person.is_superuser
    assert person.first_name == "x"


def test_an_operator_cannot_take_over_a_superuser(client, operator):
    # given
    root = OperatorFactory(is_superuser=True)
    client.force_login(operator)
    # when
    password_page = client.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, "usable_password": "true"},
    )
    client.post(CHANGELIST_URL, {"action": "deactivate", "_selected_action": [root.pk]})
    # then
    assert password_page.status_code == 403
    root.refresh_from_db()
    assert root.is_active
    assert root.check_password("pass-for-tests-1")
    with pytest.raises(PermissionDenied):
        people.person_add(
            actor=operator, username="sneaky", is_operator_role=True, is_superuser=True
        )


def test_a_superuser_may_make_a_superuser(client):
    root = OperatorFactory(is_superuser=True)
    client.force_login(root)
    response = client.post(ADD_URL, add_form(kind="operator", grant_superuser="on"))
    assert response.status_code == 302
    person = User.objects.get(username="new-person")
    assert person.is_superuser
    assert person.is_operator


def test_an_operator_adds_an_owner_to_a_merchant(client, operator, merchant_a):
    client.force_login(operator)
    response = client.post(ADD_URL, add_form(kind="owner", merchant=merchant_a.pk))
    assert response.status_code == 302
    person = User.objects.get(username="new-person")
    assert (person.merchant, person.merchant_role, person.is_operator) == (
        merchant_a,
        "owner",
        False,
    )
    assert person.check_password(GOOD_PASSWORD)


# --- the owner and its staff ---------------------------------------------------------------


def test_the_owner_adds_staff_to_its_own_merchant_only(client, owner_a, merchant_a, merchant_b):
    # given
    client.force_login(owner_a)
    form = client.get(ADD_URL).context["adminform"].form
    assert "kind" not in form.fields
    assert "merchant" not in form.fields
    # when the owner forges an operator role and another merchant
    response = client.post(ADD_URL, add_form(kind="operator", merchant=merchant_b.pk))
    # then the new person is staff of the owner's merchant
    assert response.status_code == 302
    person = User.objects.get(username="new-person")
    assert (person.merchant, person.merchant_role, person.is_operator) == (
        merchant_a,
        "staff",
        False,
    )
    assert not person.is_superuser


def test_the_owner_deactivates_staff_who_then_cannot_sign_in(client, owner_a, staff_a):
    # given
    client.force_login(owner_a)
    # when
    response = client.post(
        CHANGELIST_URL, {"action": "deactivate", "_selected_action": [staff_a.pk]}
    )
    # then
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert not staff_a.is_active
    client.logout()
    assert not client.login(username=staff_a.username, password="pass-for-tests-1")
    # and the owner may bring them back
    client.force_login(owner_a)
    client.post(CHANGELIST_URL, {"action": "reactivate", "_selected_action": [staff_a.pk]})
    staff_a.refresh_from_db()
    assert staff_a.is_active


def test_the_owner_cannot_deactivate_itself_or_another_owner(client, owner_a, merchant_a):
    # given
    second_owner = PersonFactory(merchant=merchant_a, merchant_role="owner")
    client.force_login(owner_a)
    # when
    client.post(
        CHANGELIST_URL,
        {"action": "deactivate", "_selected_action": [owner_a.pk, second_owner.pk]},
    )
    # then
    owner_a.refresh_from_db()
    second_owner.refresh_from_db()
    assert owner_a.is_active
    assert second_owner.is_active


def test_staff_add_and_deactivate_nobody(client, staff_a, owner_a, merchant_a):
    # given
    colleague = PersonFactory(merchant=merchant_a, merchant_role="staff")
    client.force_login(staff_a)
    # when
    add_page = client.get(ADD_URL)
    posted = client.post(ADD_URL, add_form())
    acted = client.post(
        CHANGELIST_URL, {"action": "deactivate", "_selected_action": [colleague.pk]}
    )
    edited = client.post(change_url(colleague), {"first_name": "changed", "email": ""})
    # then
    assert add_page.status_code == 403
    assert posted.status_code == 403
    assert acted.status_code in (200, 302)
    assert edited.status_code == 403
    colleague.refresh_from_db()
    assert colleague.is_active
    assert colleague.first_name != "changed"
    assert not User.objects.filter(username="new-person").exists()


def test_the_owner_edits_its_staffs_names_but_not_their_role(client, owner_a, staff_a):
    client.force_login(owner_a)
    response = client.post(
        change_url(staff_a),
        {
            "first_name": "Li",
            "last_name": "Si",
            "email": "lisi@merchant.example",
            "merchant_role": "owner",
            "is_operator": "on",
        },
    )
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert (staff_a.first_name, staff_a.email) == ("Li", "lisi@merchant.example")
    assert (staff_a.merchant_role, staff_a.is_operator) == ("staff", False)


# --- every user has exactly one role -------------------------------------------------------


def test_the_admin_refuses_a_merchant_person_without_a_merchant(client, operator):
    client.force_login(operator)
    response = client.post(ADD_URL, add_form(kind="staff"))
    assert response.status_code == 200
    assert "merchant" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="new-person").exists()


def test_the_admin_refuses_an_operator_at_a_merchant(client, operator, merchant_a):
    client.force_login(operator)
    response = client.post(ADD_URL, add_form(kind="operator", merchant=merchant_a.pk))
    assert response.status_code == 200
    assert "merchant" in response.context["adminform"].form.errors


def test_no_user_without_a_role_from_the_services_the_manager_or_the_database(operator):
    with pytest.raises(BusinessRuleViolation):
        people.person_add(actor=operator, username="nobody")
    with pytest.raises(ValueError, match="operator or one merchant"):
        User.objects.create_user("nobody", password=GOOD_PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="nobody")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="root-at-a-merchant", is_superuser=True)
    assert not User.objects.filter(username__in=["nobody", "root-at-a-merchant"]).exists()


def test_createsuperuser_makes_an_operator():
    root = User.objects.create_superuser("root", "root@exchange.example", GOOD_PASSWORD)
    assert root.is_operator
    assert root.merchant is None


# --- the same through the API ---------------------------------------------------------------


PEOPLE_URL = reverse("person-list")


def person_url(person, action=None):
    return reverse(f"person-{action}" if action else "person-detail", args=[person.pk])


def test_api_the_owner_adds_staff(api_client, owner_a, merchant_a):
    response = api_client(owner_a).post(
        PEOPLE_URL, {"username": "api-staff", "password": GOOD_PASSWORD}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["role"], body["merchant"], body["is_superuser"]) == ("staff", merchant_a.pk, False)
    assert "password" not in body


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"role": "owner"}, 403),
        ({"role": "operator"}, 403),
        ({"password": "123"}, 400),
        ({"username": ""}, 400),
    ],
)
def test_api_the_owner_grants_nothing_it_does_not_hold(api_client, owner_a, body, status):
    payload = {"username": "api-person", "password": GOOD_PASSWORD, **body}
    response = api_client(owner_a).post(PEOPLE_URL, payload, format="json")
    assert response.status_code == status, response.json()
    assert not User.objects.filter(username="api-person").exists()


def test_api_another_merchant_is_refused_like_a_missing_one(api_client, owner_a, merchant_b):
    client = api_client(owner_a)
    payload = {"username": "api-person", "password": GOOD_PASSWORD}
    other = client.post(PEOPLE_URL, {**payload, "merchant": merchant_b.pk}, format="json")
    missing = client.post(PEOPLE_URL, {**payload, "merchant": 2**40}, format="json")
    assert other.status_code == missing.status_code == 400

    def merchant_errors(response, pk):
        return [
            (e["code"], e["message"].replace(str(pk), "<id>"))
            for e in response.json()["errors"]
            if e["field"] == "merchant"
        ]

    assert merchant_errors(other, merchant_b.pk) == merchant_errors(missing, 2**40) != []


def test_api_the_owner_deactivates_staff_whose_token_then_fails(api_client, owner_a, staff_a):
    staff_api = api_client(staff_a)
    assert staff_api.get(PEOPLE_URL).status_code == 200
    response = api_client(owner_a).post(person_url(staff_a, "deactivate"))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert staff_api.get(PEOPLE_URL).status_code == 401


def test_api_staff_manage_nobody_and_nobody_deactivates_themselves(
    api_client, owner_a, staff_a, merchant_a
):
    colleague = PersonFactory(merchant=merchant_a, merchant_role="staff")
    staff_api = api_client(staff_a)
    assert staff_api.post(person_url(colleague, "deactivate")).status_code == 403
    assert staff_api.patch(person_url(colleague), {"email": "x@y.example"}).status_code == 403
    payload = {"username": "by-staff", "password": GOOD_PASSWORD}
    assert staff_api.post(PEOPLE_URL, payload, format="json").status_code == 403
    assert api_client(owner_a).post(person_url(owner_a, "deactivate")).status_code == 403
    colleague.refresh_from_db()
    owner_a.refresh_from_db()
    assert colleague.is_active
    assert owner_a.is_active
    assert colleague.email != "x@y.example"


def test_api_another_merchants_people_are_invisible(api_client, owner_a, owner_b):
    client = api_client(owner_a)
    listed = client.get(PEOPLE_URL).json()["results"]
    assert owner_b.pk not in {row["id"] for row in listed}
    assert client.post(person_url(owner_b, "deactivate")).status_code == 404


def test_api_operator_adds_an_operator_and_an_owner(operator_api, merchant_b):
    made_operator = operator_api.post(
        PEOPLE_URL,
        {"username": "op2", "password": GOOD_PASSWORD, "role": "operator"},
        format="json",
    )
    owner = operator_api.post(
        PEOPLE_URL,
        {"username": "own2", "password": GOOD_PASSWORD, "role": "owner", "merchant": merchant_b.pk},
        format="json",
    )
    homeless = operator_api.post(
        PEOPLE_URL, {"username": "st2", "password": GOOD_PASSWORD, "role": "staff"}, format="json"
    )
    assert made_operator.status_code == 201
    assert made_operator.json()["role"] == "operator"
    assert owner.status_code == 201
    assert owner.json()["merchant"] == merchant_b.pk
    assert homeless.status_code == 400
    assert "merchant" in {e["field"] for e in homeless.json()["errors"]}


def test_api_operator_cannot_deactivate_a_superuser(operator_api):
    root = OperatorFactory(is_superuser=True)
    assert operator_api.post(person_url(root, "deactivate")).status_code == 403
    root.refresh_from_db()
    assert root.is_active


def test_services_refuse_an_owner_of_another_merchant(owner_a):
    stranger = PersonFactory(merchant=MerchantFactory(), merchant_role="staff")
    with pytest.raises(PermissionDenied):
        people.person_deactivate(actor=owner_a, person=stranger)
    with pytest.raises(PermissionDenied):
        people.person_add(
            actor=owner_a, username="x", merchant=stranger.merchant, role="staff", password=None
        )
