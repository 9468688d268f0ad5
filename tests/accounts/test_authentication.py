"""The API's token: who calls, read with the merchant they act for in one statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.authentication import TokenAuthentication

pytestmark = pytest.mark.django_db


def test_the_token_reads_the_person_and_their_merchant_in_one_statement(owner_a, merchant_a):
    # given a merchant's person with a token
    key = Token.objects.create(user=owner_a).key
    # when the token is checked
    with CaptureQueriesContext(connection) as reads:
        user, token = TokenAuthentication().authenticate_credentials(key)
        merchant = user.merchant
    # then one statement gave the person and the merchant
    assert (user, token.key, merchant) == (owner_a, key, merchant_a)
    assert len(reads.captured_queries) == 1


def test_an_operators_token_finds_no_merchant(operator):
    key = Token.objects.create(user=operator).key
    user, _token = TokenAuthentication().authenticate_credentials(key)
    assert user == operator
    assert user.merchant is None


@pytest.mark.parametrize("case", ["unknown", "inactive"])
def test_an_unknown_token_or_an_inactive_persons_is_a_401(owner_a, case):
    key = Token.objects.create(user=owner_a).key
    if case == "inactive":
        owner_a.is_active = False
        owner_a.save(update_fields=["is_active"])
    else:
        key = "0" * 40
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/orders/").status_code == 401
