"""Sign-in: wrong passwords locked out per account and per address, on the token
endpoint and the admin login alike; an operator unlocks (accounts/signin.py)."""

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.signin import signin_unlock
from tests.factories.accounts import OperatorFactory, PersonFactory

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
PASSWORD = "a long passphrase 42"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    person = PersonFactory()
    person.set_password(PASSWORD)
    person.save()
    return person


def token(client, username, password, address="10.0.0.1"):
    return client.post(TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, person):
    # given four wrong passwords: each a plain 400
    for _ in range(4):
        assert token(client, person.username, "wrong").status_code == 400
    # when the fifth is wrong too
    locked = token(client, person.username, "wrong")
    # then it is a 429 locked_out with Retry-After, and the right password is refused as well,
    # from another address too
    assert locked.status_code == 429, locked.content
    assert locked.json()["error_code"] == "locked_out"
    assert int(locked["Retry-After"]) > 0
    again = token(client, person.username, PASSWORD, address="10.0.0.2")
    assert again.status_code == 429
    assert "token" not in again.json()


def test_an_operator_unlocks_the_account(client, person):
    for _ in range(5):
        token(client, person.username, "wrong")
    assert token(client, person.username, PASSWORD).status_code == 429
    # when an operator unlocks it
    assert signin_unlock(actor=OperatorFactory(), username=person.username) > 0
    # then the right password signs in again
    response = token(client, person.username, PASSWORD)
    assert response.status_code == 200
    assert response.json()["token"]


def test_only_operators_unlock(person):
    with pytest.raises(PermissionDenied):
        signin_unlock(actor=PersonFactory(merchant=person.merchant), username=person.username)


def test_one_address_trying_many_accounts_is_locked_out(client, person):
    # given five wrong passwords from one address, each for another username
    for n in range(5):
        token(client, f"guess{n}", "wrong", address="10.9.9.9")
    # then that address may not sign in even with a right password; another address may
    assert token(client, person.username, PASSWORD, address="10.9.9.9").status_code == 429
    assert token(client, person.username, PASSWORD, address="10.0.0.7").status_code == 200


def test_a_success_resets_the_account_s_count(client, person):
    for _ in range(4):
        token(client, person.username, "wrong", address="10.0.0.1")
    assert token(client, person.username, PASSWORD, address="10.0.0.2").status_code == 200
    for _ in range(4):
        assert token(client, person.username, "wrong", address="10.0.0.3").status_code == 400


def test_token_requests_are_throttled_per_address(client, person, settings):
    settings.SIGN_IN_THROTTLE_RATE = "3/minute"
    for _ in range(3):
        assert token(client, person.username, PASSWORD).status_code == 200
    throttled = token(client, person.username, PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json()["error_code"] == "throttled"
    assert token(client, person.username, PASSWORD, address="10.0.0.8").status_code == 200


def _admin_login(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_the_admin_login_locks_out_after_five_wrong_passwords(client, person):
    # given four wrong passwords: the login form again
    for _ in range(4):
        assert _admin_login(client, person.username, "wrong").status_code == 200
    # when the fifth is wrong, and then the right one is tried
    locked = _admin_login(client, person.username, "wrong")
    right = _admin_login(client, person.username, PASSWORD)
    # then both are the 429 page in Chinese, and nobody is signed in
    assert locked.status_code == 429
    assert right.status_code == 429
    assert "登录" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_operators_unlock_from_the_people_admin_and_owners_cannot(client, person):
    for _ in range(5):
        _admin_login(client, person.username, "wrong")
    operator = OperatorFactory()
    client.force_login(operator)
    changelist = reverse("admin:accounts_user_changelist")
    # when an operator runs the action on the person
    response = client.post(
        changelist, {"action": "unlock_sign_in", "_selected_action": [person.pk]}, follow=True
    )
    assert response.status_code == 200
    client.logout()
    # then the person signs in at the admin again
    assert _admin_login(client, person.username, PASSWORD).status_code == 302
    # and an owner is not offered the action
    owner = PersonFactory(merchant=person.merchant, merchant_role="owner")
    client.force_login(owner)
    page = client.get(changelist)
    assert b"unlock_sign_in" not in page.content
