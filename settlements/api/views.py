import json

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ServiceCreateMixin,
    ServiceUpdateMixin,
)
from core.formatting import csv_response
from core.permissions import HasExchangeRole, IsOperator
from settlements import selectors
from settlements.api.serializers import (
    ClearingBatchDetailSerializer,
    ClearingBatchSerializer,
    ClearingRunInputSerializer,
    DataAssetQuerySerializer,
    DataAssetRecordsSerializer,
    DepartmentStatementQuerySerializer,
    DepartmentStatementSerializer,
    FeeScheduleInputSerializer,
    FeeScheduleSerializer,
    LedgerAccountSerializer,
    PayoutDetailSerializer,
    PayoutExportQuerySerializer,
    PayoutMarkPaidInputSerializer,
    PayoutSerializer,
    ProductCostLineInputSerializer,
    ProductCostLineSerializer,
    StatementQuerySerializer,
    StatementSerializer,
)
from settlements.filters import (
    ClearingBatchFilter,
    FeeScheduleFilter,
    LedgerAccountFilter,
    PayoutFilter,
    ProductCostLineFilter,
)
from settlements.models import (
    ClearingBatch,
    ClearingBatchEvent,
    FeeSchedule,
    LedgerAccount,
    Payout,
    PayoutEvent,
    ProductCostLine,
)
from settlements.services import assets, fees, payouts
from settlements.services.clearing import clearing_run_for_day

CSV_PARAMETER = OpenApiParameter(
    "format", str, enum=["json", "csv"], description="csv: download as a CSV file"
)


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` (or Accept: text/csv) choose a CSV download; errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode(self.charset)
        return json.dumps(data, default=str).encode(self.charset)


def csv_download(text: str, filename: str, *, bom: bool = True) -> HttpResponse:
    return csv_response(text, filename, bom=bom)


class FeeScheduleViewSet(ServiceCreateMixin, ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """The exchange's commission rates. Everyone with a role reads; operators add and edit.

    No deletion: a rate that should stop gets an end date, so past days keep
    the rate they were cleared with on record.
    """

    queryset = FeeSchedule.objects.select_related("board")
    serializer_class = FeeScheduleSerializer
    filterset_class = FeeScheduleFilter
    search_fields = ["note"]
    ordering_fields = ["effective_from", "fee_bps", "created_at"]

    service_output = FeeScheduleSerializer
    create_input = FeeScheduleInputSerializer
    create_service = fees.fee_schedule_create
    update_input = FeeScheduleInputSerializer
    update_service = fees.fee_schedule_update
    update_target = "schedule"


class ClearingBatchViewSet(ScopedReadOnlyViewSet):
    """清算 clearing batches, one per business day. Operators only."""

    queryset = ClearingBatch.objects.all()
    filterset_class = ClearingBatchFilter
    ordering_fields = ["business_date", "created_at", "order_count"]
    ordering = ["-business_date"]

    serializer_class = ClearingBatchDetailSerializer
    list_serializer_class = ClearingBatchSerializer
    detail_prefetch = (
        "chunks",
        Prefetch("events", queryset=ClearingBatchEvent.objects.select_related("actor")),
    )

    @extend_schema(
        request=ClearingRunInputSerializer,
        responses={202: ClearingBatchDetailSerializer},
        description="Run, re-run or resume the clearing of a business day (queued as tasks).",
    )
    def create(self, request):
        self.check_operator(request)
        data = ClearingRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = clearing_run_for_day(
            business_date=data.validated_data["business_date"],
            actor=request.user,
            dispatch="celery",
        )
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(ClearingBatchDetailSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=ClearingBatchDetailSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """computed -> confirmed: payouts are drawn up (and the batch settles if none is due)."""
        self.check_operator(request)
        batch = payouts.clearing_batch_confirm(actor=request.user, batch=self.get_object())
        return Response(ClearingBatchDetailSerializer(self.get_queryset().get(pk=batch.pk)).data)


class PayoutViewSet(ScopedReadOnlyViewSet):
    """结算 payout instructions. A merchant sees its own; operators mark them paid."""

    queryset = Payout.objects.select_related("batch", "merchant")
    filterset_class = PayoutFilter
    search_fields = ["merchant__legal_name", "bank_reference"]
    ordering_fields = ["created_at", "amount_fen", "paid_at"]

    serializer_class = PayoutDetailSerializer
    list_serializer_class = PayoutSerializer
    detail_prefetch = (Prefetch("events", queryset=PayoutEvent.objects.select_related("actor")),)

    @extend_schema(request=PayoutMarkPaidInputSerializer, responses=PayoutDetailSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid", url_name="mark-paid")
    def mark_paid(self, request, pk=None):
        """pending -> paid: posts payable -> bank clearing (once)."""
        self.check_operator(request)
        payout = self.get_object()
        data = PayoutMarkPaidInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payouts.payout_mark_paid(actor=request.user, payout=payout, **data.validated_data)
        return Response(PayoutDetailSerializer(self.get_queryset().get(pk=payout.pk)).data)

    @extend_schema(
        parameters=[PayoutExportQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    # The file is CSV whatever Accept says, so Accept: text/csv must not be a 406.
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def export(self, request):
        """The bank payout file (CSV) of one batch."""
        self.check_operator(request)
        query = PayoutExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        batch = ClearingBatch.objects.filter(pk=query.validated_data["batch"]).first()
        if batch is None:
            raise Http404
        return csv_download(
            payouts.payout_csv(batch=batch), f"payouts-{batch.business_date}.csv", bom=False
        )


class LedgerAccountViewSet(ScopedReadOnlyViewSet):
    """Ledger accounts with their running balances; a merchant sees its own."""

    queryset = LedgerAccount.objects.all()
    serializer_class = LedgerAccountSerializer
    filterset_class = LedgerAccountFilter
    ordering_fields = ["kind", "balance_fen", "updated_at"]
    ordering = ["kind", "id"]


class ProductCostLineViewSet(ScopedModelViewSet):
    """数据资产入表 cost lines: a merchant books costs against its own products."""

    queryset = ProductCostLine.objects.select_related("product")
    serializer_class = ProductCostLineSerializer
    filterset_class = ProductCostLineFilter
    search_fields = ["description", "product__title"]
    ordering_fields = ["incurred_on", "amount_fen", "created_at"]

    @extend_schema(
        request=ProductCostLineInputSerializer, responses={201: ProductCostLineSerializer}
    )
    def create(self, request):
        data = ProductCostLineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["amount_fen"] = values.pop("amount")
        line = assets.cost_line_create(actor=request.user, **values)
        return Response(ProductCostLineSerializer(line).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProductCostLineInputSerializer, responses=ProductCostLineSerializer)
    def update(self, request, pk=None, partial=False):
        line = self.get_object()
        data = ProductCostLineInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "amount" in values:
            values["amount_fen"] = values.pop("amount")
        line = assets.cost_line_update(actor=request.user, line=line, **values)
        return Response(ProductCostLineSerializer(line).data)

    @extend_schema(request=ProductCostLineInputSerializer, responses=ProductCostLineSerializer)
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        assets.cost_line_delete(actor=request.user, line=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CSVAwareView(APIView):
    permission_classes = [HasExchangeRole]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    def wants_csv(self, request) -> bool:
        return getattr(request.accepted_renderer, "format", "") == "csv"


class StatementView(CSVAwareView):
    """Statement of one ledger account for a period: opening balance, postings, closing balance."""

    @extend_schema(
        parameters=[StatementQuerySerializer, CSV_PARAMETER],
        responses={200: StatementSerializer, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = (
            selectors.ledger_account_list(user=request.user)
            .filter(pk=query.validated_data["account"])
            .first()
        )
        if account is None:
            raise Http404(_("No such account among yours."))
        csv = self.wants_csv(request)
        default_lines = selectors.STATEMENT_MAX_LINES if csv else selectors.STATEMENT_PAGE_LINES
        statement = selectors.statement_for_account(
            account=account,
            date_from=query.validated_data["from"],
            date_to=query.validated_data["to"],
            cursor=query.validated_data.get("cursor", ""),
            lines=query.validated_data.get("lines", default_lines),
        )
        if csv:
            return csv_download(
                selectors.statement_csv(statement),
                f"statement-{account.pk}-{statement.date_from}-{statement.date_to}.csv",
            )
        next_url = None
        if statement.next_cursor:
            params = request.query_params.copy()
            params["cursor"] = statement.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response(StatementSerializer(statement, context={"next": next_url}).data)


class DepartmentStatementView(CSVAwareView):
    """Revenue-share statements per department for a period (operators)."""

    permission_classes = [IsOperator]

    @extend_schema(
        parameters=[DepartmentStatementQuerySerializer, CSV_PARAMETER],
        responses={
            200: DepartmentStatementSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    def get(self, request):
        query = DepartmentStatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.department_share_statements(
            date_from=query.validated_data["from"],
            date_to=query.validated_data["to"],
            department_id=query.validated_data.get("department"),
        )
        if self.wants_csv(request):
            return csv_download(
                selectors.department_share_csv(rows),
                f"department-shares-{query.validated_data['to']}.csv",
            )
        return Response(DepartmentStatementSerializer(rows, many=True).data)


class DataAssetRecordView(CSVAwareView):
    """Per-product revenue (by month), orders, buyers and cost lines for 数据资产入表."""

    @extend_schema(
        parameters=[DataAssetQuerySerializer, CSV_PARAMETER],
        responses={200: DataAssetRecordsSerializer, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        query = DataAssetQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        records = selectors.data_asset_records(
            user=request.user,
            date_from=query.validated_data["from"],
            date_to=query.validated_data["to"],
            product_id=query.validated_data.get("product"),
        )
        if self.wants_csv(request):
            return csv_download(
                selectors.data_asset_csv(records),
                f"data-assets-{query.validated_data['from']}-{query.validated_data['to']}.csv",
            )
        return Response(DataAssetRecordsSerializer(records).data)
