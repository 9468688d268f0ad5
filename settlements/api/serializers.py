import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import YuanField
from products.choices import DeliveryMode
from products.models import Board
from settlements.choices import CostCategory
from settlements.models import (
    ClearingBatch,
    ClearingChunk,
    FeeSchedule,
    LedgerAccount,
    Payout,
    ProductCostLine,
)
from settlements.selectors import STATEMENT_MAX_LINES, STATEMENT_PAGE_LINES

# Ids are bigint columns; larger numbers would make the database itself complain.
MAX_ID = 2**62


class SettlementEventSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.CharField(
        source="actor.username", default=None, allow_null=True, read_only=True
    )
    created_at = serializers.DateTimeField()


class FeeScheduleSerializer(serializers.ModelSerializer):
    board: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = FeeSchedule
        fields = [
            "id",
            "board",
            "delivery_mode",
            "fee_bps",
            "effective_from",
            "effective_until",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FeeScheduleInputSerializer(serializers.Serializer):
    board = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Board.objects.all(),
        required=False,
        allow_null=True,
        help_text="The board's code; leave out for any board.",
    )
    delivery_mode = serializers.ChoiceField(DeliveryMode.choices, required=False, allow_blank=True)
    fee_bps = serializers.IntegerField(min_value=0, max_value=10_000)
    effective_from = serializers.DateField()
    effective_until = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ClearingChunkSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClearingChunk
        fields = [
            "seq",
            "first_order_id",
            "last_order_id",
            "status",
            "planned_orders",
            "cleared_orders",
            "postings_created",
            "attempts",
            "finished_at",
        ]


class ClearingBatchSerializer(serializers.ModelSerializer):
    gross = YuanField(source="gross_fen", read_only=True)
    fees = YuanField(source="fee_fen", read_only=True)
    department_shares = YuanField(source="share_fen", read_only=True)
    seller_net = YuanField(source="net_fen", read_only=True)

    class Meta:
        model = ClearingBatch
        fields = [
            "id",
            "business_date",
            "status",
            "order_count",
            "gross",
            "fees",
            "department_shares",
            "seller_net",
            "created_at",
            "updated_at",
        ]


class ClearingBatchDetailSerializer(ClearingBatchSerializer):
    progress = serializers.SerializerMethodField()
    chunks = ClearingChunkSerializer(many=True, read_only=True)
    events = SettlementEventSerializer(many=True, read_only=True)

    class Meta(ClearingBatchSerializer.Meta):
        fields = [*ClearingBatchSerializer.Meta.fields, "progress", "chunks", "events"]

    def get_progress(self, batch) -> dict:
        chunks = list(batch.chunks.all())
        done = [c for c in chunks if c.status == "done"]
        return {
            "chunks": len(chunks),
            "chunks_done": len(done),
            "orders_planned": sum(c.planned_orders for c in chunks),
            "orders_cleared": sum(c.cleared_orders for c in done),
        }


class ClearingRunInputSerializer(serializers.Serializer):
    business_date = serializers.DateField(help_text="The local business day to clear.")

    def validate_business_date(self, value: dt.date) -> dt.date:
        if value.year < 2000:
            raise serializers.ValidationError(_("the exchange did not trade before 2000"))
        return value


class PayoutSerializer(serializers.ModelSerializer):
    business_date = serializers.DateField(source="batch.business_date", read_only=True)
    merchant_name = serializers.CharField(source="merchant.legal_name", read_only=True)
    net = YuanField(source="net_fen", read_only=True)
    carried_in = YuanField(source="carried_in_fen", read_only=True)
    amount = YuanField(source="amount_fen", read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "batch",
            "business_date",
            "merchant",
            "merchant_name",
            "net",
            "carried_in",
            "amount",
            "status",
            "carried_into",
            "bank_reference",
            "paid_at",
            "created_at",
        ]


class PayoutDetailSerializer(PayoutSerializer):
    events = SettlementEventSerializer(many=True, read_only=True)

    class Meta(PayoutSerializer.Meta):
        fields = [*PayoutSerializer.Meta.fields, "events"]


class PayoutMarkPaidInputSerializer(serializers.Serializer):
    bank_reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )


class PayoutExportQuerySerializer(serializers.Serializer):
    batch = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class LedgerAccountSerializer(serializers.ModelSerializer):
    balance = YuanField(source="balance_fen", read_only=True)

    class Meta:
        model = LedgerAccount
        fields = ["id", "kind", "merchant", "department", "balance", "updated_at"]


class PeriodQuerySerializer(serializers.Serializer):
    """`from` and `to`: local calendar days, both included; at most 400 days apart."""

    to = serializers.DateField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()  # a Python keyword, so declared here
        return fields

    def validate(self, attrs):
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["must not be before 'from'"]})
        if (attrs["to"] - attrs["from"]).days > 400:
            raise serializers.ValidationError({"to": ["a period spans at most 400 days"]})
        return attrs


class StatementQuerySerializer(PeriodQuerySerializer):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    lines = serializers.IntegerField(
        min_value=1,
        max_value=STATEMENT_MAX_LINES,
        required=False,
        help_text=f"Postings per page: {STATEMENT_PAGE_LINES} unless asked (CSV: "
        f"{STATEMENT_MAX_LINES}), at most {STATEMENT_MAX_LINES}.",
    )
    cursor = serializers.CharField(
        required=False,
        max_length=500,
        help_text="The next page: the cursor in the `next` link of the page before.",
    )


class DepartmentStatementQuerySerializer(PeriodQuerySerializer):
    department = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class DataAssetQuerySerializer(PeriodQuerySerializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class StatementLineSerializer(serializers.Serializer):
    posted_at = serializers.DateTimeField()
    entry_id = serializers.IntegerField()
    idempotency_key = serializers.CharField()
    purpose = serializers.CharField()
    order_id = serializers.IntegerField(allow_null=True)
    amount = YuanField(source="amount_fen", allow_negative=True)
    balance = YuanField(source="balance_fen", allow_negative=True)
    usage_measured_by = serializers.CharField(
        source="usage_source",
        help_text="Usage bills: gateway (counted by the exchange) or seller (the seller's "
        "own report); empty for other postings.",
    )


class StatementSerializer(serializers.Serializer):
    account = LedgerAccountSerializer()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    opening_balance = YuanField(source="opening_balance_fen", allow_negative=True)
    credits = YuanField(source="credits_fen")
    debits = YuanField(source="debits_fen")
    closing_balance = YuanField(source="closing_balance_fen", allow_negative=True)
    truncated = serializers.BooleanField(help_text="More lines follow; `next` reads them.")
    next = serializers.SerializerMethodField(
        help_text="The next page of lines, or null on the last page."
    )
    lines = StatementLineSerializer(many=True)

    @extend_schema_field(OpenApiTypes.URI)
    def get_next(self, statement) -> str | None:
        return self.context.get("next")


class DepartmentStatementSerializer(serializers.Serializer):
    department = serializers.IntegerField(source="department.pk")
    department_name = serializers.CharField(source="department.name")
    account_id = serializers.IntegerField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    opening_balance = YuanField(source="opening_balance_fen", allow_negative=True)
    share = YuanField(source="share_fen", allow_negative=True)
    orders = serializers.IntegerField()
    closing_balance = YuanField(source="closing_balance_fen", allow_negative=True)


class RevenueRecordSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product = serializers.CharField()
    month = serializers.DateField()
    revenue = YuanField(source="revenue_fen", allow_negative=True)
    orders = serializers.IntegerField()
    buyers = serializers.IntegerField()


class ProductCostLineSerializer(serializers.ModelSerializer):
    amount = YuanField(source="amount_fen")

    class Meta:
        model = ProductCostLine
        fields = [
            "id",
            "product",
            "incurred_on",
            "category",
            "amount",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ProductCostLineInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    incurred_on = serializers.DateField()
    category = serializers.ChoiceField(CostCategory.choices)
    amount = YuanField()
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)


class DataAssetRecordsSerializer(serializers.Serializer):
    revenue = RevenueRecordSerializer(many=True)
    costs = ProductCostLineSerializer(many=True)
