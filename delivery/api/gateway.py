"""The gateway over the API: sellers register upstreams, buyers take and revoke keys."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import IdRelatedField, OptionalReasonInputSerializer, ScopedViewSetMixin
from delivery.models import ApiKey, GatewayCall, Upstream
from delivery.services import gateway
from marketplace.models import Order
from products.models import PricingPlan, Product


class UpstreamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Upstream
        fields = ["id", "product", "base_url", "header_name", "updated_at"]
        read_only_fields = fields


class UpstreamRegisterInputSerializer(serializers.Serializer):
    product = IdRelatedField(
        queryset=Product.objects.all(), own=True, help_text="Your API product."
    )
    base_url = serializers.CharField(
        max_length=500, help_text="https://host/path; calls go to base_url/<path>."
    )
    header_name = serializers.CharField(max_length=100, help_text="Header the upstream checks.")
    secret = serializers.CharField(
        max_length=4000, write_only=True, help_text="Its value; stored sealed, never shown."
    )


class ApiKeySerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "buyer",
            "product",
            "plan",
            "order",
            "prefix",
            "created_at",
            "expires_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields


class ApiKeyIssuedSerializer(ApiKeySerializer):
    key = serializers.SerializerMethodField(help_text="The key, shown this once.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields

    def get_key(self, obj) -> str:
        return self.context["raw"]


class ApiKeyCreateInputSerializer(serializers.Serializer):
    order = IdRelatedField(
        queryset=Order.objects.all(), own=True, required=False, allow_null=True, default=None,
        help_text="A paid subscription order.",
    )  # fmt: skip
    plan = IdRelatedField(
        queryset=PricingPlan.objects.all(), own=True, required=False, allow_null=True, default=None,
        help_text="A metered plan (instead of an order).",
    )  # fmt: skip


class GatewayCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = GatewayCall
        fields = [
            "id",
            "api_key",
            "call_id",
            "buyer",
            "plan",
            "month",
            "method",
            "path",
            "attempts",
            "is_counted",
            "status_code",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields


class UpstreamViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Upstream endpoints of API products. POST registers (or replaces) one, by the seller.

    The base URL must be https (loopback is accepted only where the exchange
    allows it, in tests); the secret is sealed under the master key.
    """

    queryset = Upstream.objects.all()
    serializer_class = UpstreamSerializer
    filterset_fields = ["product"]
    ordering_fields = ["updated_at"]
    ordering = ["-updated_at"]

    @extend_schema(request=UpstreamRegisterInputSerializer, responses={201: UpstreamSerializer})
    def create(self, request):
        data = UpstreamRegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upstream = gateway.upstream_register(actor=self.request_actor(), **data.validated_data)
        return Response(UpstreamSerializer(upstream).data, status=status.HTTP_201_CREATED)


class ApiKeyViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Buyers' API keys for the gateway. POST issues one (shown once); revoke ends it.

    Send it as X-Api-Key to /gateway/<registration number>/<path>, with an
    X-Call-Id you repeat on retries so the call counts once.
    """

    queryset = ApiKey.objects.all()
    serializer_class = ApiKeySerializer
    filterset_fields = ["product", "order", "plan"]
    ordering_fields = ["created_at", "expires_at"]

    @extend_schema(request=ApiKeyCreateInputSerializer, responses={201: ApiKeyIssuedSerializer})
    def create(self, request):
        data = ApiKeyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = gateway.api_key_issue(actor=self.request_actor(), **data.validated_data)
        body = ApiKeyIssuedSerializer(key, context={"raw": raw}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=OptionalReasonInputSerializer, responses=ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the key (the buyer's people or an operator)."""
        data = OptionalReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = gateway.api_key_revoke(
            actor=self.request_actor(), key=self.get_object(), reason=data.validated_data["reason"]
        )
        return Response(ApiKeySerializer(key).data)


class GatewayCallViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Calls through the gateway, as the exchange measured them. Both sides read."""

    queryset = GatewayCall.objects.all()
    serializer_class = GatewayCallSerializer
    filterset_fields = ["api_key", "plan", "month", "is_counted"]
    ordering_fields = ["created_at"]
