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
    PersonCreateInputSerializer,
    PersonSerializer,
    PersonUpdateInputSerializer,
)
from accounts.filters import MerchantFilter
from accounts.models import Merchant, User
from accounts.services import people
from core.api import (
    ReasonInputSerializer,
    ScopedReadOnlyViewSet,
    ScopedViewSetMixin,
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


class PersonViewSet(
    ScopedViewSetMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """People: a merchant's owner adds and deactivates its staff; operators manage anyone.

    Staff read their colleagues and change nobody. Nobody grants a right they
    do not hold, and nobody deactivates themselves (accounts.services.people).
    """

    queryset = User.objects.select_related("merchant").order_by("id")
    serializer_class = PersonSerializer
    filterset_fields = ["merchant", "merchant_role", "is_operator", "is_active"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering_fields = ["date_joined", "username", "id"]
    ordering = ["id"]

    service_output = PersonSerializer
    update_input = PersonUpdateInputSerializer
    update_service = people.person_update
    update_target = "person"
    update_operators_only = False
    update_description = "Change a person's name or e-mail (their owner, or an operator)."

    @extend_schema(request=PersonCreateInputSerializer, responses={201: PersonSerializer})
    def create(self, request):
        """Add a person. An owner adds staff to its merchant; an operator adds anyone."""
        data = PersonCreateInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        role = fields.pop("role")
        merchant = fields.pop("merchant", None)
        if merchant is None and role != "operator":
            merchant = getattr(request.user, "merchant", None)
        person = people.person_add(
            actor=self.request_actor(),
            merchant=None if role == "operator" else merchant,
            role="" if role == "operator" else role,
            is_operator_role=role == "operator",
            **fields,
        )
        return Response(PersonSerializer(person).data, status=status.HTTP_201_CREATED)

    def _set_active(self, request, is_active: bool):
        person = people.person_set_active(
            actor=self.request_actor(), person=self.get_object(), is_active=is_active
        )
        return Response(PersonSerializer(person).data)

    @extend_schema(request=None, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """The person can no longer sign in; their token stops working. Kept for the record."""
        return self._set_active(request, False)

    @extend_schema(request=None, responses=PersonSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        """A deactivated person may sign in again."""
        return self._set_active(request, True)
