"""Providers declare and load data sets and templates; operators review; buyers run.

A run is answered 202 with its id: the result is on the run's detail once the
worker has finished it. No route reads a data set's rows.
"""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.api import ScopedReadOnlyViewSet, ServiceUpdateMixin
from core.scoping import merchant_id_of, scope_to_merchant
from products.models import Product
from querying.api import serializers as s
from querying.models import Dataset, PrivacyBudget, QueryRun, QueryTemplate
from querying.selectors import template_runnable_list
from querying.services import datasets, runs, templates


def _scoped_get(model, pk, user):
    obj = scope_to_merchant(model.objects.all(), user).filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj


class DatasetViewSet(ScopedReadOnlyViewSet):
    """Query data sets: what was declared and how far the load is; never the rows."""

    queryset = Dataset.objects.select_related("product")
    serializer_class = s.DatasetSerializer
    filterset_fields = ["product", "status"]

    @extend_schema(request=s.DatasetCreateInputSerializer, responses={201: s.DatasetSerializer})
    def create(self, request):
        """Declare a product version's data set: columns, types, bounds, privacy unit."""
        data = s.DatasetCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        product = _scoped_get(Product, values.pop("product"), request.user)
        dataset = datasets.dataset_declare(actor=request.user, product=product, **values)
        return Response(s.DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DatasetLoadInputSerializer, responses={202: s.DatasetSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def load(self, request, pk=None):
        """Upload a CSV or Parquet file; the load is queued and its progress shown here."""
        dataset = self.get_object()
        data = s.DatasetLoadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        source_format = data.validated_data.get("format") or (
            "parquet" if upload.name.lower().endswith(".parquet") else "csv"
        )
        dataset = datasets.dataset_load_file(
            actor=request.user, dataset=dataset, source=upload, source_format=source_format
        )
        return Response(s.DatasetSerializer(dataset).data, status=status.HTTP_202_ACCEPTED)


class QueryTemplateViewSet(ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """Query templates: the provider's own, and the approved ones of products a buyer holds."""

    queryset = QueryTemplate.objects.select_related("dataset", "product")
    serializer_class = s.QueryTemplateSerializer
    service_output = s.QueryTemplateSerializer
    update_input = s.QueryTemplateUpdateInputSerializer
    update_service = templates.template_update
    update_target = "template"
    update_operators_only = False
    update_description = "Change a draft's terms (one sent back by review, say); then submit it."
    filterset_fields = ["product", "status"]

    def get_queryset(self):
        mine = super().get_queryset()
        merchant_id = merchant_id_of(self.request.user)
        if merchant_id is None:
            return mine
        held = template_runnable_list(buyer_id=merchant_id)
        return QueryTemplate.objects.select_related("dataset", "product").filter(
            Q(pk__in=mine.values("pk")) | Q(pk__in=held.values("pk"))
        )

    @extend_schema(
        request=s.QueryTemplateCreateInputSerializer, responses={201: s.QueryTemplateSerializer}
    )
    def create(self, request):
        """A draft template over one of your data sets."""
        data = s.QueryTemplateCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        dataset = _scoped_get(Dataset, values.pop("dataset"), request.user)
        template = templates.template_create(actor=request.user, dataset=dataset, **values)
        return Response(s.QueryTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    def _mine(self):
        template = self.get_object()
        return _scoped_get(QueryTemplate, template.pk, self.request.user)

    @extend_schema(request=None, responses={200: s.QueryTemplateSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit for review; the engine computes the privacy cost of one run."""
        template = templates.template_submit(actor=request.user, template=self._mine())
        return Response(s.QueryTemplateSerializer(template).data)

    @extend_schema(request=None, responses={200: s.QueryTemplateSerializer})
    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request, pk=None):
        """An operator takes the template into review."""
        self.check_operator(request)
        template = templates.template_review_start(actor=request.user, template=self.get_object())
        return Response(s.QueryTemplateSerializer(template).data)

    @extend_schema(
        request=s.TemplateApproveInputSerializer, responses={200: s.QueryTemplateSerializer}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve with every compliance and privacy checklist item ticked."""
        self.check_operator(request)
        data = s.TemplateApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = templates.template_approve(
            actor=request.user, template=self.get_object(), **data.validated_data
        )
        return Response(s.QueryTemplateSerializer(template).data)

    @extend_schema(
        request=s.TemplateRejectInputSerializer, responses={200: s.QueryTemplateSerializer}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Send back to draft with comments saying what to fix."""
        self.check_operator(request)
        data = s.TemplateRejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = templates.template_reject(
            actor=request.user, template=self.get_object(), **data.validated_data
        )
        return Response(s.QueryTemplateSerializer(template).data)


class QueryRunViewSet(ScopedReadOnlyViewSet):
    """A buyer's runs and their aggregate results."""

    queryset = QueryRun.objects.all()
    serializer_class = s.QueryRunSerializer
    filterset_fields = ["template", "status"]

    @extend_schema(request=s.QueryRunCreateInputSerializer, responses={202: s.QueryRunSerializer})
    def create(self, request):
        """Run an approved template: 202 with the run; its result once done (GET the run)."""
        data = s.QueryRunCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = (
            QueryTemplateViewSet(request=request, action="retrieve", format_kwarg=None)
            .get_queryset()
            .filter(pk=data.validated_data["template"])
            .first()
        )
        if template is None:
            raise NotFound()
        run = runs.query_run_request(
            actor=request.user,
            template=template,
            parameters=data.validated_data.get("parameters", {}),
        )
        run.refresh_from_db()
        return Response(s.QueryRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class PrivacyBudgetViewSet(ScopedReadOnlyViewSet):
    """A buyer's privacy budgets, per product and month."""

    queryset = PrivacyBudget.objects.all()
    serializer_class = s.PrivacyBudgetSerializer
    filterset_fields = ["product", "period_start"]
