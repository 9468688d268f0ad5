"""Orders for operators and for merchants' integrations; the payment channel's webhook."""

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import OptionalReasonInputSerializer, ReasonInputSerializer, ScopedReadOnlyViewSet
from core.exceptions import BusinessRuleViolation
from core.models import keep_prefetched
from core.scoping import is_operator, merchant_id_of
from marketplace.api.serializers import (
    DisputeResolveInputSerializer,
    DisputeSerializer,
    OrderCreateInputSerializer,
    OrderDeliverInputSerializer,
    OrderDetailSerializer,
    OrderSerializer,
    PaymentNotifyResultSerializer,
    RefundDecisionInputSerializer,
    RefundDeclineInputSerializer,
    RefundInputSerializer,
    RefundSerializer,
    UsageRecordCreateInputSerializer,
    UsageRecordSerializer,
)
from marketplace.filters import OrderFilter, UsageRecordFilter
from marketplace.models import Order, OrderEvent, Refund, UsageRecord
from marketplace.services import disputes, orders, refunds
from marketplace.services.idempotency import idempotent_order_create
from marketplace.services.payments import (
    SIGNATURE_HEADER,
    SignatureInvalid,
    payment_notification_receive,
)
from marketplace.services.usage import usage_record_submit

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="One key per order you mean to place; a retry with the same key and body "
    "returns the first answer. Kept at least 24 hours.",
)


def _placed_order_detail(order: Order) -> dict:
    """The detail of an order placed in this transaction, from the rows it has just written.

    No other transaction can refer to an order not yet committed, so it has no
    refunds, disputes or downloads, and its events are the ones written here,
    which order_place keeps on the order: no query, instead of reading the order
    again with six prefetches. The answer is the one GET /orders/{id}/ gives
    (tests compare).
    """
    # order_place read the product with its board: the order's board is that one.
    order.board = order.product.board
    keep_prefetched(order, "refunds", [])
    keep_prefetched(order, "disputes", [])
    # order_place keeps the events it wrote on the order; read only if it did not
    prefetch_related_objects(
        [order], Prefetch("events", queryset=OrderEvent.objects.select_related("actor"))
    )
    return OrderDetailSerializer(order, context={"just_placed": True}).data


def _merchant_person(request, view, message: str):
    """The merchant a signed-in merchant's person acts for; 403 for operators and others."""
    merchant_id = merchant_id_of(request.user)
    if merchant_id is None or is_operator(request.user):
        view.permission_denied(request, message=message)
    return request.user.merchant


class OrderViewSet(ScopedReadOnlyViewSet):
    """Orders. Operators see all; a merchant sees its purchases and its sales.

    Moves: the buyer cancels (before payment), accepts, disputes and asks for
    refunds; the seller delivers and decides refund requests; operators
    refund and resolve disputes. Payment comes from the channel only.
    """

    queryset = Order.objects.select_related("buyer", "seller", "product", "plan", "board")
    filterset_class = OrderFilter
    search_fields = ["number", "product__title", "buyer__legal_name", "seller__legal_name"]
    ordering_fields = ["created_at", "amount_fen", "number"]

    serializer_class = OrderDetailSerializer
    list_serializer_class = OrderSerializer
    detail_prefetch = ("events__actor", "refunds", "disputes")

    def _detail(self, order: Order, code: int = status.HTTP_200_OK) -> Response:
        return Response(OrderDetailSerializer(self.get_queryset().get(pk=order.pk)).data, code)

    def _input(self, serializer_class, request):
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data

    @extend_schema(
        request=OrderCreateInputSerializer,
        responses={201: OrderDetailSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        """Place an order (a buyer merchant's people). The server computes the amount."""
        buyer = _merchant_person(request, self, "orders are placed by a buyer merchant's people")
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["send a JSON object"]})

        def create():
            data = self._input(OrderCreateInputSerializer, request)
            # the input read the plan with its relations, in this transaction, which
            # idempotent_order_create undoes whole if anything in it fails
            order = orders.order_place(
                actor=request.user, buyer=buyer, plan_read=True, savepoint=False, **data
            )
            return status.HTTP_201_CREATED, _placed_order_detail(order), order

        code, body = idempotent_order_create(
            merchant=buyer,
            key=request.headers.get("Idempotency-Key", ""),
            body=request.data,
            create=create,
        )
        return Response(body, status=code)

    @extend_schema(request=OrderDeliverInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        """paid -> delivered (the seller)."""
        data = self._input(OrderDeliverInputSerializer, request)
        order = orders.order_deliver(actor=request.user, order=self.get_object(), **data)
        return self._detail(order)

    @extend_schema(request=OptionalReasonInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """delivered -> accepted (the buyer)."""
        data = self._input(OptionalReasonInputSerializer, request)
        order = orders.order_accept(actor=request.user, order=self.get_object(), **data)
        return self._detail(order)

    @extend_schema(request=OptionalReasonInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """pending_payment -> cancelled (the buyer, or an operator)."""
        data = self._input(OptionalReasonInputSerializer, request)
        order = orders.order_cancel(actor=request.user, order=self.get_object(), **data)
        return self._detail(order)

    @extend_schema(request=ReasonInputSerializer, responses={201: DisputeSerializer})
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        """Open a dispute (the buyer, after delivery); it freezes the order's clearing."""
        data = self._input(ReasonInputSerializer, request)
        dispute = disputes.order_dispute_open(actor=request.user, order=self.get_object(), **data)
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DisputeResolveInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"], url_path="resolve-dispute")
    def resolve_dispute(self, request, pk=None):
        """Resolve the open dispute (operators): release, refund or split."""
        data = self._input(DisputeResolveInputSerializer, request)
        order = self.get_object()
        disputes.order_dispute_resolve(
            actor=request.user,
            order=order,
            outcome=data["outcome"],
            refund_fen=data["refund"],
            reason=data["reason"],
        )
        return self._detail(order)

    @extend_schema(request=RefundInputSerializer, responses={201: RefundSerializer})
    @action(detail=True, methods=["post"], url_path="request-refund")
    def request_refund(self, request, pk=None):
        """Ask for a refund, part or all (the buyer, before clearing)."""
        data = self._input(RefundInputSerializer, request)
        refund = refunds.order_refund_request(
            actor=request.user,
            order=self.get_object(),
            amount_fen=data["amount"],
            reason=data["reason"],
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RefundInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund part or all of the escrow (operators, or the seller), before clearing."""
        data = self._input(RefundInputSerializer, request)
        order = self.get_object()
        refunds.order_refund(
            actor=request.user, order=order, amount_fen=data["amount"], reason=data["reason"]
        )
        return self._detail(order)

    def _refund_request(self, request, decide, input_class=RefundDecisionInputSerializer):
        data = self._input(input_class, request)
        order = self.get_object()
        refund = Refund.objects.filter(order=order, pk=data["refund"]).first()
        if refund is None:
            raise BusinessRuleViolation(_("no such refund request on this order"), field="refund")
        decide(actor=request.user, refund=refund, reason=data["reason"])
        return self._detail(order)

    @extend_schema(request=RefundDecisionInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"], url_path="approve-refund")
    def approve_refund(self, request, pk=None):
        """Grant the buyer's refund request (the seller, or an operator)."""
        return self._refund_request(request, refunds.refund_request_approve)

    @extend_schema(request=RefundDeclineInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"], url_path="decline-refund")
    def decline_refund(self, request, pk=None):
        """Decline the buyer's refund request (the seller, or an operator); give a reason."""
        return self._refund_request(
            request, refunds.refund_request_decline, input_class=RefundDeclineInputSerializer
        )


class UsageRecordViewSet(ScopedReadOnlyViewSet):
    """Usage of metered plans. The seller's gateway reports; both sides and operators read."""

    queryset = UsageRecord.objects.all()
    serializer_class = UsageRecordSerializer
    filterset_class = UsageRecordFilter
    search_fields = ["record_id"]
    ordering_fields = ["created_at", "used_at"]

    @extend_schema(
        request=UsageRecordCreateInputSerializer,
        responses={201: UsageRecordSerializer, 200: UsageRecordSerializer},
    )
    def create(self, request):
        """Report usage (the seller's gateway). Resending a record id returns the stored record."""
        seller = _merchant_person(request, self, "usage is reported by the seller's people")
        data = UsageRecordCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record, created = usage_record_submit(
            actor=request.user, seller=seller, **data.validated_data
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(UsageRecordSerializer(record).data, status=code)


class PaymentNotifyView(APIView):
    """The payment channel tells us an order was paid.

    No session or token: the channel authenticates each request with an
    HMAC-SHA256 signature of the raw body (X-Payment-Signature, hex), and the
    body's timestamp and nonce stop replays.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: PaymentNotifyResultSerializer},
        parameters=[
            OpenApiParameter(SIGNATURE_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, True)
        ],
        description="Body: {order_number, amount (yuan string), channel_reference, "
        "timestamp (Unix seconds), nonce}.",
    )
    def post(self, request):
        try:
            order, outcome = payment_notification_receive(
                body=request.body, signature=request.headers.get(SIGNATURE_HEADER, "")
            )
        except SignatureInvalid as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response({"order_number": order.number, "status": order.status, "outcome": outcome})
