from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services
from accounts.api.serializers import (
    MerchantCreateInputSerializer,
    MerchantDetailSerializer,
    MerchantSerializer,
    MerchantUpdateInputSerializer,
)
from accounts.filters import MerchantFilter
from accounts.models import Merchant
from core.api import ReasonInputSerializer, ScopedViewSetMixin


class MerchantViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """数商 data merchants. Operators see all and review them; a merchant sees itself."""

    queryset = Merchant.objects.all()
    filterset_class = MerchantFilter
    search_fields = ["legal_name", "credit_code"]
    ordering_fields = ["created_at", "legal_name", "credit_code", "region", "status"]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return MerchantDetailSerializer
        return MerchantSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events__actor")
        return queryset

    @extend_schema(request=MerchantCreateInputSerializer, responses={201: MerchantSerializer})
    def create(self, request):
        """Register a merchant (operators); it starts in status 'applied'."""
        self.check_operator(request)
        data = MerchantCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        merchant = services.merchant_register(actor=request.user, **data.validated_data)
        return Response(MerchantSerializer(merchant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MerchantUpdateInputSerializer, responses=MerchantSerializer)
    def partial_update(self, request, pk=None):
        """Edit the profile: a merchant its own, an operator any. Status is never edited here."""
        merchant = self.get_object()
        data = MerchantUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        merchant = services.merchant_update_profile(
            actor=request.user, merchant=merchant, **data.validated_data
        )
        return Response(MerchantSerializer(merchant).data)

    def _act(self, request, service):
        self.check_operator(request)
        merchant = self.get_object()
        data = ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        merchant = service(actor=request.user, merchant=merchant, **data.validated_data)
        return Response(MerchantDetailSerializer(merchant).data)

    @extend_schema(request=ReasonInputSerializer, responses=MerchantDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """applied -> active."""
        return self._act(request, services.merchant_approve)

    @extend_schema(request=ReasonInputSerializer, responses=MerchantDetailSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """active -> suspended; the merchant's listed products are suspended too."""
        return self._act(request, services.merchant_suspend)

    @extend_schema(request=ReasonInputSerializer, responses=MerchantDetailSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        """suspended -> active."""
        return self._act(request, services.merchant_reinstate)

    @extend_schema(request=ReasonInputSerializer, responses=MerchantDetailSerializer)
    @action(detail=True, methods=["post"], url_path="exit", url_name="exit")
    def exit_exchange(self, request, pk=None):
        """Leave the exchange for good (final)."""
        return self._act(request, services.merchant_exit)
