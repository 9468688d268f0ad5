from typing import Any

from rest_framework import serializers

from accounts.models import Merchant
from core.api import (
    FieldsBuiltOnceModelSerializer,
    FieldsBuiltOnceSerializer,
    IdRelatedField,
    ReasonField,
    YuanField,
)
from core.prepared import PreparedLookup
from core.scoping import visible_to_merchant
from marketplace.choices import DisputeOutcome
from marketplace.models import Dispute, Order, OrderEvent, Refund, UsageRecord
from marketplace.services.orders import MAX_QUANTITY, PLAN_RELATIONS
from marketplace.services.usage import MAX_CALLS_PER_RECORD
from products.models import PricingPlan
from publicdata.models import Scenario


class OrderEventSerializer(FieldsBuiltOnceModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class RefundSerializer(serializers.ModelSerializer):
    amount = YuanField(source="amount_fen", read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "amount", "reason", "status", "created_at", "decided_at"]


class DisputeSerializer(serializers.ModelSerializer):
    refund = YuanField(source="refund_fen", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "reason",
            "opened_at",
            "outcome",
            "refund",
            "resolution_note",
            "resolved_at",
        ]


class OrderSerializer(FieldsBuiltOnceModelSerializer):
    board: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    amount = YuanField(source="amount_fen", read_only=True)
    refunded = YuanField(source="refunded_fen", read_only=True)
    escrow = YuanField(source="escrow_fen", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "buyer",
            "seller",
            "product",
            "plan",
            "quantity",
            "period_start",
            "period_end",
            "amount",
            "refunded",
            "escrow",
            "status",
            "is_disputed",
            "board",
            "delivery_mode",
            "grant",
            "scenario",
            "department",
            "department_share_bps",
            "renewal_of",
            "billed_month",
            "delivery_note",
            "created_at",
            "paid_at",
            "delivered_at",
            "accepted_at",
            "cleared_at",
            "settled_at",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    events = OrderEventSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    disputes = DisputeSerializer(many=True, read_only=True)
    delivery_evidence = serializers.SerializerMethodField(
        help_text="Files delivered through the exchange: the file's SHA-256 and the download "
        "log with its digest; null otherwise. What an operator weighs in a dispute."
    )

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "contract",
            "events",
            "refunds",
            "disputes",
            "delivery_evidence",
        ]
        read_only_fields = fields

    def get_delivery_evidence(self, order) -> dict | None:
        from delivery.services.downloads import delivery_evidence

        if self.context.get("just_placed"):
            return None  # nothing is delivered before the order is committed

        return delivery_evidence(order=order)


_PLANS_READ_TO_PLACE = PricingPlan.objects.select_related(*PLAN_RELATIONS)
# Every order placed reads its plan so: compiled once (core/prepared.py), about 1 ms less.
_PLAN_VISIBLE_TO_MERCHANT = PreparedLookup(
    PricingPlan,
    lambda merchant_id, pk: visible_to_merchant(_PLANS_READ_TO_PLACE, merchant_id).filter(pk=pk),
    samples=(-7_000_000_001, -7_000_000_002),
)


# Built for every order placed: its fields are copied, not rebuilt.
class OrderCreateInputSerializer(FieldsBuiltOnceSerializer):
    plan = IdRelatedField(
        # read as order_place reads it, so that it need not read it again
        queryset=_PLANS_READ_TO_PLACE,
        own=True,
        prepared=_PLAN_VISIBLE_TO_MERCHANT,
        help_text="The pricing plan of a listed product.",
    )
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        default=1,
        help_text="Units of a one-off plan, or periods of a subscription.",
    )
    scenario = IdRelatedField(
        queryset=Scenario.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Public-data products: the authorized scenario the purchase serves.",
    )
    start_on = serializers.DateField(
        required=False, default=None, help_text="Subscriptions: the first day (default today)."
    )


class OrderDeliverInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RefundInputSerializer(serializers.Serializer):
    amount = YuanField(
        required=False, default=None, help_text="Yuan; leave out for all that is in escrow."
    )
    reason = ReasonField(max_length=2000)


class RefundDecisionInputSerializer(serializers.Serializer):
    refund = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The refund request's id."
    )
    reason = ReasonField(max_length=2000, required=False, allow_blank=True, default="")


class RefundDeclineInputSerializer(RefundDecisionInputSerializer):
    reason = ReasonField(
        max_length=2000, help_text="Why the refund is declined; the buyer reads it."
    )


class DisputeResolveInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(DisputeOutcome.choices)
    refund = YuanField(required=False, default=None, help_text="Yuan; for a split only.")
    reason = ReasonField(max_length=2000)


class UsageRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageRecord
        fields = [
            "id",
            "record_id",
            "seller",
            "buyer",
            "plan",
            "calls",
            "source",
            "used_at",
            "billed_order",
            "created_at",
        ]
        read_only_fields = fields


class UsageRecordCreateInputSerializer(serializers.Serializer):
    record_id = serializers.CharField(max_length=64, help_text="The gateway's own record id.")
    buyer = IdRelatedField(queryset=Merchant.objects.all(), own=True)
    plan = IdRelatedField(queryset=PricingPlan.objects.select_related("product"), own=True)
    calls = serializers.IntegerField(min_value=1, max_value=MAX_CALLS_PER_RECORD)
    used_at = serializers.DateTimeField()


class PaymentNotifyResultSerializer(serializers.Serializer):
    order_number = serializers.CharField()
    status = serializers.CharField()
    outcome = serializers.CharField()
