"""Lookups compiled once per connection give what their queryset gives (core.prepared)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError

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


def test_the_order_inputs_plan_is_read_as_the_scoped_queryset_reads_it(owner_a, merchant_b):
    from core.api import REQUEST_USER
    from marketplace.api.serializers import OrderCreateInputSerializer
    from tests.factories.marketplace import listed_product
    from tests.factories.products import PlanFactory, ProductFactory

    # given plans merchant A may name (its own, on sale or not; B's on sale) and may not
    own_off_sale = PlanFactory(product=ProductFactory(provider=owner_a.merchant, status="draft"))
    on_sale = PlanFactory(product=listed_product(provider=merchant_b))
    off_sale = PlanFactory(product=listed_product(provider=merchant_b), is_active=False)
    unlisted = PlanFactory(product=ProductFactory(provider=merchant_b, status="draft"))
    field = OrderCreateInputSerializer().fields["plan"]
    unprepared = OrderCreateInputSerializer().fields["plan"]
    unprepared.prepared = None
    token = REQUEST_USER.set(owner_a)
    try:
        for plan in (own_off_sale, on_sale, off_sale, unlisted):
            # when both ways read it as A
            answers = []
            for reading in (field, unprepared):
                try:
                    answers.append(reading.to_internal_value(plan.pk))
                except ValidationError as exc:
                    answers.append(exc.detail)
            # then they agree, the plan with its product, provider and board included
            assert answers[0] == answers[1]
            if isinstance(answers[0], type(plan)):
                assert answers[0].product.provider == answers[1].product.provider
                assert answers[0].product.board == answers[1].product.board
        visible = [own_off_sale, on_sale]
        assert [field.to_internal_value(plan.pk) for plan in visible] == visible
        for hidden in (off_sale.pk, unlisted.pk, 10**12):
            with pytest.raises(ValidationError) as refused:
                field.to_internal_value(hidden)
            assert refused.value.get_codes() == ["does_not_exist"]
    finally:
        REQUEST_USER.reset(token)
