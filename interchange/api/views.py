from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from core import jobs
from core.api import (
    OptionalReasonInputSerializer,
    ReasonInputSerializer,
    ScopedReadOnlyViewSet,
    ServiceCreateMixin,
    ServiceUpdateMixin,
)
from core.filters import ScopedFilterBackend
from interchange import services
from interchange.api.serializers import (
    HarvestInputSerializer,
    HarvestQueuedSerializer,
    HarvestRunSerializer,
    PartnerExchangeSerializer,
    PartnerExchangeUpdateInputSerializer,
    PartnerListingSerializer,
    PartnerRecordSerializer,
    RecognitionCreateInputSerializer,
    RecognitionSerializer,
)
from interchange.choices import RecordStatus
from interchange.filters import HarvestRunFilter, PartnerListingFilter, PartnerRecordFilter
from interchange.models import HarvestRun, PartnerExchange, PartnerRecord, RegistrationRecognition


class PartnerExchangeViewSet(ServiceCreateMixin, ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """Partner exchanges whose catalogs are harvested (operators only)."""

    queryset = PartnerExchange.objects.select_related("last_good_run")
    serializer_class = PartnerExchangeSerializer
    filterset_fields = ["trust_level", "is_active"]
    search_fields = ["name", "catalog_url"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    service_output = PartnerExchangeSerializer
    create_input = PartnerExchangeSerializer
    create_service = services.partner_create
    create_description = "Register a partner exchange: name, catalog URL, trust level, schedule."
    update_input = PartnerExchangeUpdateInputSerializer
    update_service = services.partner_update
    update_target = "partner"
    update_description = "Change a partner's address, trust level or schedule (operators)."

    @extend_schema(
        request=HarvestInputSerializer,
        responses={202: HarvestQueuedSerializer},
        description="Queue a harvest of this partner now; the run appears under harvest-runs.",
    )
    @action(detail=True, methods=["post"])
    def harvest(self, request, pk=None):
        from interchange.tasks import partner_harvest_task

        self.check_operator(request)
        partner = self.get_object()
        data = HarvestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # No row records a harvest before it starts, so a broker that is away
        # is a 503 the operator retries, not a harvest silently lost.
        result = jobs.send_now(partner_harvest_task, partner.pk, data.validated_data["full"])
        return Response(
            {"partner": partner.pk, "task_id": result.id}, status=status.HTTP_202_ACCEPTED
        )


class HarvestRunViewSet(ScopedReadOnlyViewSet):
    """Each harvest with its counts (new, updated, unchanged, delisted, refused) and errors."""

    queryset = HarvestRun.objects.all()
    serializer_class = HarvestRunSerializer
    filterset_class = HarvestRunFilter
    ordering_fields = ["started_at"]
    ordering = ["-started_at"]


class PartnerRecordViewSet(ScopedReadOnlyViewSet):
    """Every harvested partner record, whatever its status, with raw record and history
    (operators); listings waiting for review are approved or refused here."""

    queryset = PartnerRecord.objects.select_related("partner", "industry").prefetch_related(
        "events"
    )
    serializer_class = PartnerRecordSerializer
    filterset_class = PartnerRecordFilter
    search_fields = ["title", "title_en", "summary", "tags", "publisher_name"]
    ordering_fields = ["updated_at", "title"]
    ordering = ["-updated_at"]

    @extend_schema(request=OptionalReasonInputSerializer, responses=PartnerRecordSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        record = self.operator_action(
            request,
            services.partner_record_approve,
            target="record",
            input_class=OptionalReasonInputSerializer,
        )
        return Response(PartnerRecordSerializer(record).data)

    @extend_schema(request=ReasonInputSerializer, responses=PartnerRecordSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        record = self.operator_action(request, services.partner_record_refuse, target="record")
        return Response(PartnerRecordSerializer(record).data)


class PartnerListingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Partner exchanges' listings in our market, beside our own products.

    Each carries its provenance (`source`: the partner's record, dct:source)
    and its publisher. Published to every signed-in role like our market;
    only listings in force are shown.
    """

    published_listing = True
    queryset = PartnerRecord.objects.filter(status=RecordStatus.LISTED).select_related(
        "partner", "industry"
    )
    serializer_class = PartnerListingSerializer
    filterset_class = PartnerListingFilter
    search_fields = ["title", "title_en", "summary", "summary_en", "tags", "publisher_name"]
    ordering_fields = ["updated_at", "title"]
    ordering = ["-updated_at"]
    filter_backends = [ScopedFilterBackend, SearchFilter, OrderingFilter]


class RecognitionViewSet(ScopedReadOnlyViewSet):
    """登记互认: a product's registration at a trusted partner, checked against the
    partner's catalog; such a product's review checks compliance only."""

    queryset = RegistrationRecognition.objects.select_related("partner", "partner_record")
    serializer_class = RecognitionSerializer
    filterset_fields = ["product", "partner", "status"]
    ordering = ["-created_at"]

    @extend_schema(request=RecognitionCreateInputSerializer, responses={201: RecognitionSerializer})
    def create(self, request):
        from core.exceptions import BusinessRuleViolation
        from core.scoping import is_operator, merchant_id_of

        data = RecognitionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = data.validated_data["product"]
        if not (is_operator(request.user) or product.provider_id == merchant_id_of(request.user)):
            raise BusinessRuleViolation(_("no such product"), field="product")
        recognition = services.recognition_create(actor=request.user, **data.validated_data)
        return Response(RecognitionSerializer(recognition).data, status=status.HTTP_201_CREATED)
