"""Lookups compiled once per connection give what their queryset gives (core.prepared)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from core.prepared import PreparedLookup

pytestmark = pytest.mark.django_db

TOKEN_WITH_PERSON = PreparedLookup(
    Token,
    lambda key: Token.objects.select_related("user__merchant").filter(key=key),
    samples=("test-sample-key",),
)


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_rows_and_their_joined_rows_are_the_querysets(owner_a, operator):
    # given two tokens, one of a person with a merchant and one without
    for user in (owner_a, operator):
        key = Token.objects.create(user=user).key
        # when both ways read it
        expected = Token.objects.select_related("user__merchant").get(key=key)
        [prepared] = TOKEN_WITH_PERSON.rows(key)
        # then every column of the token, the person and the merchant is the same
        assert _fields(prepared) == _fields(expected)
        assert _fields(prepared.user) == _fields(expected.user)
        if expected.user.merchant is None:
            assert prepared.user.merchant is None
        else:
            assert _fields(prepared.user.merchant) == _fields(expected.user.merchant)
        assert prepared._state.db == expected._state.db
        assert not prepared._state.adding


def test_each_call_runs_one_statement_with_its_own_value(owner_a, operator):
    keys = [Token.objects.create(user=user).key for user in (owner_a, operator)]
    with CaptureQueriesContext(connection) as reads:
        found = [TOKEN_WITH_PERSON.rows(key)[0].user for key in keys]
        missing = TOKEN_WITH_PERSON.rows("0" * 40)
    assert found == [owner_a, operator]
    assert missing == []
    assert len(reads.captured_queries) == 3


def test_a_sample_that_is_not_a_parameter_is_refused():
    lookup = PreparedLookup(Token, lambda key: Token.objects.filter(key="fixed"), samples=("x",))
    with pytest.raises(ImproperlyConfigured):
        lookup.rows("y")
