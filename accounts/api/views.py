from drf_spectacular.utils import extend_schema
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
from core.api import (
    ReasonInputSerializer,
    ScopedReadOnlyViewSet,
    ServiceCreateMixin,
    ServiceUpdateMixin,
)


class MerchantViewSet(ServiceCreateMixin, ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """数商 data merchants. Operators see all and review them; a merchant sees itself."""

    queryset = Merchant.objects.all()
    filterset_class = MerchantFilter
    search_fields = ["legal_name", "credit_code"]
    ordering_fields = ["created_at", "legal_name", "credit_code", "region", "status"]

    service_output = MerchantSerializer
    create_input = MerchantCreateInputSerializer
    create_service = services.merchant_register
    create_description = "Register a merchant (operators); it starts in status 'applied'."
    update_input = MerchantUpdateInputSerializer
    update_service = services.merchant_update_profile
    update_target = "merchant"
    # The merchant's own people edit its profile too; scoping keeps them to it.
    update_operators_only = False
    update_description = (
        "Edit the profile: a merchant its own, an operator any. Status is never edited here."
    )

    serializer_class = MerchantDetailSerializer
    list_serializer_class = MerchantSerializer
    detail_prefetch = ("events__actor",)

    def _act(self, request, service):
        merchant = self.operator_action(request, service, target="merchant")
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
