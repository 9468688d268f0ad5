"""Serializers whose fields are built once per class and language (core.api)."""

from django.utils import translation

from marketplace.api.serializers import OrderDetailSerializer, OrderSerializer


def test_the_built_fields_follow_the_language_of_the_request():
    with translation.override("en"):
        english = OrderSerializer().fields["status"]
    with translation.override("zh-hans"):
        chinese = OrderSerializer().fields["status"]
    with translation.override("en"):
        again = OrderSerializer().fields["status"]
    assert (english.label, chinese.label, again.label) == ("Status", "状态", "Status")


def test_each_serializer_gets_fields_of_its_own():
    # a serializer that changes its fields (DRF binds them to their parent) leaves others alone
    first, second = OrderDetailSerializer(), OrderDetailSerializer()
    assert first.fields["status"] is not second.fields["status"]
    assert first.fields["status"].parent is first
    assert second.fields["status"].parent is second
    first.fields.pop("contract")
    assert "contract" in OrderDetailSerializer().fields
    assert "contract" in second.fields
    assert set(OrderSerializer().fields) < set(OrderDetailSerializer().fields)


def test_nested_serializers_are_copied_whole_and_plain_fields_bind_to_their_own_parent():
    first, second = OrderDetailSerializer(), OrderDetailSerializer()
    # a nested list binds fields of its own, so each serializer has its own copy of it all
    assert first.fields["events"] is not second.fields["events"]
    assert first.fields["events"].child is not second.fields["events"].child
    assert first.fields["events"].child.fields["reason"].root is first
    # a plain field copied shallowly still names its own serializer and source
    amount = second.fields["amount"]
    assert (amount.parent, amount.field_name) == (second, "amount")
    assert amount.source_attrs == ["amount_fen"]


def test_an_input_serializers_fields_are_its_own_and_its_plan_lookup_unchanged(db):
    from marketplace.api.serializers import OrderCreateInputSerializer
    from tests.factories.marketplace import listed_product
    from tests.factories.products import PlanFactory

    # given two inputs built one after the other
    plan = PlanFactory(product=listed_product())
    first = OrderCreateInputSerializer(data={"plan": plan.pk, "quantity": 2})
    second = OrderCreateInputSerializer(data={"plan": "x"})
    # then each binds fields of its own, with their labels and options
    assert first.fields["plan"] is not second.fields["plan"]
    assert first.fields["plan"].parent is first
    assert first.fields["quantity"].label == "Quantity"
    assert first.fields["quantity"].max_value == second.fields["quantity"].max_value
    # and validating one does not change what the other reads or refuses
    assert first.is_valid(), first.errors
    assert first.validated_data["plan"] == plan
    assert first.validated_data["quantity"] == 2
    assert not second.is_valid()
    assert second.errors["plan"][0].code == "incorrect_type"
    third = OrderCreateInputSerializer(data={"plan": plan.pk, "quantity": 0})
    assert not third.is_valid()
    assert third.errors["quantity"][0].code == "min_value"
