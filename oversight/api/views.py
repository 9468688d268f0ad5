from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import OptionalReasonInputSerializer, ReasonInputSerializer, ScopedReadOnlyViewSet
from core.formatting import csv_response
from core.permissions import IsOperator
from marketplace.choices import OrderStatus
from marketplace.models import Order
from oversight.api.serializers import (
    AuditFindingDetailSerializer,
    AuditFindingSerializer,
    AuditRunCreateInputSerializer,
    AuditRunSerializer,
    ChainSealSerializer,
    StatsSerializer,
)
from oversight.filters import AuditFindingFilter, AuditRunFilter, ChainSealFilter
from oversight.models import AuditFinding, AuditRun, ChainSeal
from oversight.services.audit import audit_run_request, finding_acknowledge, finding_resolve
from oversight.services.certificate import trade_certificate
from oversight.services.disclosure import disclosure_csv, public_data_disclosure
from oversight.services.stats import present, stats_latest, stats_refresh


class AuditFindingViewSet(ScopedReadOnlyViewSet):
    """Audit findings (operators only: merchants see an empty list)."""

    queryset = AuditFinding.objects.select_related("content_type", "acknowledged_by", "resolved_by")
    filterset_class = AuditFindingFilter
    search_fields = ["summary", "fingerprint"]
    ordering_fields = ["last_seen_at", "first_seen_at"]
    ordering = ("-last_seen_at", "-id")

    serializer_class = AuditFindingDetailSerializer
    list_serializer_class = AuditFindingSerializer
    detail_prefetch = ("events__actor",)

    def _act(self, request, service, input_class):
        finding = self.operator_action(request, service, target="finding", input_class=input_class)
        finding = self.get_queryset().get(pk=finding.pk)
        return Response(AuditFindingDetailSerializer(finding).data)

    @extend_schema(request=OptionalReasonInputSerializer, responses=AuditFindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """open -> acknowledged."""
        return self._act(request, finding_acknowledge, OptionalReasonInputSerializer)

    @extend_schema(request=ReasonInputSerializer, responses=AuditFindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """open/acknowledged -> resolved, with the reason (required)."""
        return self._act(request, finding_resolve, ReasonInputSerializer)


class AuditRunViewSet(ScopedReadOnlyViewSet):
    """Audit sweeps: beat runs one hourly; an operator may start one (POST)."""

    queryset = AuditRun.objects.select_related("requested_by")
    serializer_class = AuditRunSerializer
    filterset_class = AuditRunFilter
    ordering_fields = ["created_at"]
    ordering = ("-created_at", "-id")

    @extend_schema(request=AuditRunCreateInputSerializer, responses={202: AuditRunSerializer})
    def create(self, request):
        """Queue a sweep; it runs on the worker. Poll the returned run for its result."""
        self.check_operator(request)
        data = AuditRunCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = audit_run_request(actor=request.user, **data.validated_data)
        run.refresh_from_db()
        return Response(AuditRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ChainSealViewSet(ScopedReadOnlyViewSet):
    """可追溯 the hash chain's seals, against which trade certificates are checked."""

    queryset = ChainSeal.objects.all()
    serializer_class = ChainSealSerializer
    filterset_class = ChainSealFilter
    ordering_fields = ["sequence"]
    ordering = ("-sequence",)


class TradeCertificateListSerializer(serializers.ModelSerializer):
    is_final = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "number", "status", "is_final", "created_at"]

    def get_is_final(self, obj) -> bool:
        return obj.status in (OrderStatus.CLEARED, OrderStatus.SETTLED)


class TradeCertificateViewSet(ScopedReadOnlyViewSet):
    """交易凭证 trade certificates of the orders a merchant bought or sold (operators: all).

    A certificate is final once its order is cleared or settled; before that it
    shows the evidence so far.
    """

    queryset = Order.objects.select_related("buyer", "seller", "product")
    serializer_class = TradeCertificateListSerializer
    ordering = ("-created_at", "-id")
    ordering_fields = ["created_at"]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def retrieve(self, request, pk=None):
        return Response(trade_certificate(order=self.get_object()))


class StatsViewSet(viewsets.ViewSet):
    """The exchange's statistics, from the latest snapshot (refreshed by beat)."""

    permission_classes = [IsOperator]

    @extend_schema(responses=StatsSerializer)
    def list(self, request):
        snapshot = stats_latest() or stats_refresh()
        return Response(
            {
                "computed_at": snapshot.computed_at,
                "duration_ms": snapshot.duration_ms,
                "figures": present(snapshot.document),
            }
        )


YEAR_PARAMETER = OpenApiParameter(
    "year", OpenApiTypes.INT, description="The year disclosed (default: last year)."
)


class PublicDataDisclosureViewSet(viewsets.ViewSet):
    """The annual public-data disclosure: public information, readable by every exchange role."""

    def _document(self, request):
        year = request.query_params.get("year") or timezone.localdate().year - 1
        return public_data_disclosure(year=year)

    @extend_schema(parameters=[YEAR_PARAMETER], responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        return Response(present(self._document(request)))

    @extend_schema(parameters=[YEAR_PARAMETER], responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"])
    def download(self, request):
        """The same disclosure as a CSV file, one line per grant, product and plan."""
        document = self._document(request)
        filename = f"public-data-disclosure-{document['year']}.csv"
        return csv_response(disclosure_csv(document), filename)
