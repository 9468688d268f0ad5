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
