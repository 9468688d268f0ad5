"""Operators manage departments, catalog entries, grants and scenarios; merchants read their own."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import (
    OptionalReasonInputSerializer,
    ReasonInputSerializer,
    ScopedReadOnlyViewSet,
    ServiceCreateMixin,
    ServiceUpdateMixin,
)
from publicdata import services
from publicdata.api.serializers import (
    CatalogEntrySerializer,
    CatalogEntryUpdateInputSerializer,
    DepartmentSerializer,
    DepartmentUpdateInputSerializer,
    GrantCreateInputSerializer,
    GrantDetailSerializer,
    GrantSerializer,
    GrantUpdateInputSerializer,
    ScenarioAssessInputSerializer,
    ScenarioAuthorizeInputSerializer,
    ScenarioCreateInputSerializer,
    ScenarioDetailSerializer,
    ScenarioSerializer,
)
from publicdata.filters import CatalogEntryFilter, DepartmentFilter, GrantFilter, ScenarioFilter
from publicdata.models import CatalogEntry, Department, Grant, Scenario


class DepartmentViewSet(ServiceCreateMixin, ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """Departments holding public data. Everyone signed in reads; operators write."""

    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "level", "region"]
    ordering = ["code"]

    service_output = DepartmentSerializer
    create_input = DepartmentSerializer
    create_service = services.department_create
    create_description = "Register a department (operators)."
    update_input = DepartmentUpdateInputSerializer
    update_service = services.department_update
    update_target = "department"
    update_description = "Change a department's name, level or region (operators)."


class CatalogEntryViewSet(ServiceCreateMixin, ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """数据目录 the departments' data catalogs. Everyone signed in reads; operators write."""

    queryset = CatalogEntry.objects.all()
    serializer_class = CatalogEntrySerializer
    filterset_class = CatalogEntryFilter
    search_fields = ["code", "name", "fields"]
    ordering_fields = ["code", "name", "grade"]
    ordering = ["code"]

    service_output = CatalogEntrySerializer
    create_input = CatalogEntrySerializer
    create_service = services.catalog_entry_create
    create_description = "Register a catalog entry under a department (operators)."
    update_input = CatalogEntryUpdateInputSerializer
    update_service = services.catalog_entry_update
    update_target = "entry"
    update_description = "Change an entry's description (operators); code and department stay."


class GrantViewSet(ServiceCreateMixin, ScopedReadOnlyViewSet):
    """公共数据授权运营 grants. Operators manage them; a grantee reads its own."""

    queryset = Grant.objects.select_related("grantee", "industry")
    filterset_class = GrantFilter
    search_fields = ["grantee__legal_name", "department__name", "industry__name"]
    ordering_fields = ["created_at", "valid_from", "valid_until", "status"]

    service_output = GrantDetailSerializer
    create_input = GrantCreateInputSerializer
    create_service = services.grant_create
    create_description = (
        "Record a pending grant. 409 naming the grant in force if the window is taken."
    )

    serializer_class = GrantDetailSerializer
    list_serializer_class = GrantSerializer
    detail_prefetch = ("entries", "events__actor")

    # Not ServiceUpdateMixin: an edit answers with the grant read afresh, while
    # a creation answers with the service's own object.
    @extend_schema(request=GrantUpdateInputSerializer, responses=GrantDetailSerializer)
    def partial_update(self, request, pk=None):
        """Change a pending grant's window, share, ceiling or entries (operators)."""
        self.check_operator(request)
        grant = self.get_object()
        data = GrantUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        grant = services.grant_update(actor=request.user, grant=grant, **data.validated_data)
        return Response(GrantDetailSerializer(self._fresh(grant)).data)

    def _fresh(self, grant):
        return self.get_queryset().get(pk=grant.pk)

    def _act(self, request, service, serializer_class=ReasonInputSerializer):
        grant = self.operator_action(request, service, target="grant", input_class=serializer_class)
        return Response(GrantDetailSerializer(self._fresh(grant)).data)

    @extend_schema(request=OptionalReasonInputSerializer, responses=GrantDetailSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """pending -> active."""
        return self._act(request, services.grant_activate, OptionalReasonInputSerializer)

    @extend_schema(request=ReasonInputSerializer, responses=GrantDetailSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """active -> suspended; the grant's listed products are suspended at once."""
        return self._act(request, services.grant_suspend)

    @extend_schema(request=ReasonInputSerializer, responses=GrantDetailSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        """suspended -> active; products it suspended return if they pass the listing rules."""
        return self._act(request, services.grant_reinstate)

    @extend_schema(request=ReasonInputSerializer, responses=GrantDetailSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """-> revoked, final; the grant's listed products are suspended at once."""
        return self._act(request, services.grant_revoke)


class ScenarioViewSet(ServiceCreateMixin, ScopedReadOnlyViewSet):
    """应用场景 scenarios under grants: one scenario, one assessment, one authorization."""

    queryset = Scenario.objects.select_related("assessment", "authorization")
    filterset_class = ScenarioFilter
    search_fields = ["name", "description"]
    ordering_fields = ["created_at", "status", "name"]

    service_output = ScenarioDetailSerializer
    create_input = ScenarioCreateInputSerializer
    create_service = services.scenario_create
    create_description = "Propose a scenario under a grant; it awaits its assessment."

    serializer_class = ScenarioDetailSerializer
    list_serializer_class = ScenarioSerializer
    detail_prefetch = ("events__actor",)

    def _fresh(self, scenario):
        return self.get_queryset().get(pk=scenario.pk)

    def service_result(self, scenario):
        # The created scenario is answered read afresh, with its related rows.
        return self._fresh(scenario)

    @extend_schema(request=ScenarioAssessInputSerializer, responses=ScenarioDetailSerializer)
    @action(detail=True, methods=["post"])
    def assess(self, request, pk=None):
        """Record the one assessment: pass -> assessed, fail -> failed (final)."""
        self.check_operator(request)
        scenario = self.get_object()
        data = ScenarioAssessInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scenario = services.scenario_assess(
            actor=request.user, scenario=scenario, **data.validated_data
        )
        return Response(ScenarioDetailSerializer(self._fresh(scenario)).data)

    @extend_schema(request=ScenarioAuthorizeInputSerializer, responses=ScenarioDetailSerializer)
    @action(detail=True, methods=["post"])
    def authorize(self, request, pk=None):
        """Issue the one authorization, after a pass, with a window inside the grant's."""
        self.check_operator(request)
        scenario = self.get_object()
        data = ScenarioAuthorizeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scenario = services.scenario_authorize(
            actor=request.user, scenario=scenario, **data.validated_data
        )
        return Response(ScenarioDetailSerializer(self._fresh(scenario)).data)
