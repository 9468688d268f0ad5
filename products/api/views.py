from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from core.api import (
    OptionalReasonInputSerializer,
    ReasonInputSerializer,
    ScopedReadOnlyViewSet,
    ServiceUpdateMixin,
)
from core.exceptions import BusinessRuleViolation
from core.filters import ScopedFilterBackend
from core.scoping import is_operator, merchant_id_of
from products import services
from products.api import market_cache
from products.api.market import market_page, market_rows
from products.api.serializers import (
    ApproveInputSerializer,
    BoardSerializer,
    IndustrySerializer,
    MarketProductSerializer,
    PlanCreateInputSerializer,
    PlanSerializer,
    PlanUpdateInputSerializer,
    ProductCreateInputSerializer,
    ProductDetailSerializer,
    ProductSerializer,
    ProductUpdateInputSerializer,
    RejectInputSerializer,
    ReviewSerializer,
    RevisionCreateInputSerializer,
    RevisionPlanCreateInputSerializer,
    RevisionPlanSerializer,
    RevisionSerializer,
    RevisionUpdateInputSerializer,
    recognised_registrations_of,
)
from products.choices import ProductStatus
from products.filters import ProductFilter, ReviewFilter, RevisionFilter
from products.models import (
    MANUAL_SECTIONS,
    Board,
    Industry,
    PricingPlan,
    Product,
    ProductEvent,
    ProductReview,
    ProductRevision,
    RevisionPlan,
)


class ReferenceDataViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ScopedReadOnlyViewSet):
    """Operators edit; everyone with a role reads. No deletion: products point at these,
    so an industry or board is closed (is_active=false) instead."""

    lookup_field = "code"
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]
    ordering = ["code"]
    pagination_class = None


class IndustryViewSet(ReferenceDataViewSet):
    """Industries (transport, weather, finance, ...), kept as data operators edit."""

    queryset = Industry.objects.all()
    serializer_class = IndustrySerializer
    filterset_fields = ["is_active"]

    def perform_create(self, serializer):
        serializer.instance = services.industry_save(
            actor=self.request_actor(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        industry = serializer.instance
        data = {
            "name": industry.name,
            "name_en": industry.name_en,
            "data_theme": industry.data_theme,
            "is_active": industry.is_active,
        }
        data.update(serializer.validated_data)
        data.pop("code", None)
        serializer.instance = services.industry_save(
            actor=self.request_actor(), code=industry.code, **data
        )


class BoardViewSet(ReferenceDataViewSet):
    """交易专板 trading boards, each run with one partner department."""

    queryset = Board.objects.select_related("department").prefetch_related("industries")
    serializer_class = BoardSerializer
    filterset_fields = ["is_active", "department"]

    def perform_create(self, serializer):
        serializer.instance = services.board_save(
            actor=self.request_actor(), **serializer.validated_data
        )

    def perform_update(self, serializer):
        board = serializer.instance
        data = {
            "name": board.name,
            "name_en": board.name_en,
            "description": board.description,
            "department": board.department,
            "industries": list(board.industries.all()),
            "is_active": board.is_active,
        }
        data.update(serializer.validated_data)
        data.pop("code", None)
        serializer.instance = services.board_save(
            actor=self.request_actor(), code=board.code, **data
        )


class NullsLastOrderingFilter(OrderingFilter):
    """Ordering by a column that may be empty keeps only rows that have it.

    Cursor pagination needs a value in every row of its ordering column;
    ordering by first-listed date or starting price therefore lists the
    products that have one (listed ones, ones with a plan on sale).
    """

    nullable = {"listed_at", "min_price_fen"}

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view) or []
        for field in ordering:
            if field.lstrip("-") in self.nullable:
                queryset = queryset.filter(**{f"{field.lstrip('-')}__isnull": False})
        return super().filter_queryset(request, queryset, view)


class ProductViewSet(ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """数据产品 data products: operators review and list; a merchant sees its own only."""

    queryset = Product.objects.select_related("provider", "industry", "board")
    filterset_class = ProductFilter
    search_fields = ["title", "summary", "tags"]
    ordering_fields = ["created_at", "updated_at", "listed_at", "title", "min_price_fen"]
    ordering = ["-created_at"]

    filter_backends = [ScopedFilterBackend, SearchFilter, NullsLastOrderingFilter]

    service_output = ProductDetailSerializer
    update_input = ProductUpdateInputSerializer
    update_service = services.product_update
    update_target = "product"
    update_operators_only = False
    update_description = (
        "Edit a draft. A listed product changes through /product-revisions/ instead."
    )

    serializer_class = ProductDetailSerializer
    list_serializer_class = ProductSerializer
    # The list shows no manual: leave its long texts in the table.
    list_defer = (*MANUAL_SECTIONS, "sample", "delisting_request_reason")
    detail_prefetch = (
        Prefetch("plans", queryset=PricingPlan.objects.order_by("-is_active", "id")),
        Prefetch("events", queryset=ProductEvent.objects.select_related("actor")),
        Prefetch(
            "reviews",
            queryset=ProductReview.objects.select_related(
                "reviewer", "first_approver", "decided_by"
            ),
        ),
        "versions",
        "scenarios",
    )

    def service_result(self, product):
        # Answers show the product read afresh, with plans, events and reviews.
        return self.get_queryset().get(pk=product.pk)

    def _detail(self, product, code=status.HTTP_200_OK):
        return Response(ProductDetailSerializer(self.service_result(product)).data, status=code)

    @extend_schema(request=ProductCreateInputSerializer, responses={201: ProductDetailSerializer})
    def create(self, request):
        """Create a draft. A merchant's people create for their merchant; operators name one."""
        data = ProductCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        provider = fields.pop("provider", None)
        if not is_operator(request.user):
            if provider is not None and provider.pk != merchant_id_of(request.user):
                raise BusinessRuleViolation(
                    _("you create products for your own merchant only"), field="provider"
                )
            provider = request.user.merchant
        elif provider is None:
            raise BusinessRuleViolation(_("name the provider merchant"), field="provider")
        product = services.product_create(actor=request.user, provider=provider, **fields)
        return self._detail(product, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """draft -> submitted (the provider). Core-grade data is refused."""
        product = services.product_submit(actor=request.user, product=self.get_object())
        return self._detail(product)

    @extend_schema(request=OptionalReasonInputSerializer, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """submitted -> draft (the provider takes the submission back)."""
        product = self.get_object()
        data = OptionalReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_withdraw(
            actor=request.user, product=product, **data.validated_data
        )
        return self._detail(product)

    @extend_schema(request=None, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"], url_path="start-review", url_name="start-review")
    def start_review(self, request, pk=None):
        """submitted -> in review (operators)."""
        self.check_operator(request)
        product = services.product_start_review(actor=request.user, product=self.get_object())
        return self._detail(product)

    @extend_schema(request=ApproveInputSerializer, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """in review -> listed, every checklist item ticked. Important grade: two operators."""
        self.check_operator(request)
        product = self.get_object()
        data = ApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_approve(
            actor=request.user, product=product, **data.validated_data
        )
        return self._detail(product)

    @extend_schema(request=RejectInputSerializer, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """in review -> draft, with comments for the merchant (operators)."""
        self.check_operator(request)
        product = self.get_object()
        data = RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_reject(
            actor=request.user, product=product, **data.validated_data
        )
        return self._detail(product)

    def _reasoned(self, request, service):
        return self._detail(self.operator_action(request, service, target="product"))

    @extend_schema(request=ReasonInputSerializer, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """listed -> suspended (operators), with a reason."""
        return self._reasoned(request, services.product_suspend)

    @extend_schema(request=ReasonInputSerializer, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        """suspended -> listed (operators), only for a suspension operators imposed."""
        return self._reasoned(request, services.product_reinstate_by_operator)

    @extend_schema(request=ReasonInputSerializer, responses=ProductDetailSerializer)
    @action(detail=True, methods=["post"])
    def delist(self, request, pk=None):
        """listed or suspended -> delisted (operators), final, with a reason."""
        return self._reasoned(request, services.product_delist)

    @extend_schema(request=ReasonInputSerializer, responses=ProductDetailSerializer)
    @action(
        detail=True, methods=["post"], url_path="request-delisting", url_name="request-delisting"
    )
    def request_delisting(self, request, pk=None):
        """The provider asks the operators to delist the product."""
        product = self.get_object()
        data = ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_request_delisting(
            actor=request.user, product=product, **data.validated_data
        )
        return self._detail(product)


class PlanViewSet(ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """Pricing plans in yuan. Drafts' plans are edited here; listed ones only switch off."""

    queryset = PricingPlan.objects.select_related("product")
    serializer_class = PlanSerializer
    filterset_fields = ["product", "kind", "is_active"]
    ordering_fields = ["created_at"]

    service_output = PlanSerializer
    update_input = PlanUpdateInputSerializer
    update_service = services.plan_update
    update_target = "plan"
    # The provider edits its own plans; scoping keeps it to them.
    update_operators_only = False

    @extend_schema(request=PlanCreateInputSerializer, responses={201: PlanSerializer})
    def create(self, request):
        data = PlanCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terms = dict(data.validated_data)
        product = terms.pop("product")
        if not (is_operator(request.user) or product.provider_id == merchant_id_of(request.user)):
            raise BusinessRuleViolation(_("no such product"), field="product")
        plan = services.plan_create(actor=request.user, product=product, **terms)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.plan_delete(actor=request.user, plan=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewViewSet(ScopedReadOnlyViewSet):
    """Listing reviews, one per submission: checklists, verdict and the reviewer's comments."""

    queryset = ProductReview.objects.select_related("reviewer", "first_approver", "decided_by")
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["created_at"]


class RevisionViewSet(ScopedReadOnlyViewSet):
    """New versions of listed products, reviewed while the listed version keeps selling."""

    queryset = ProductRevision.objects.select_related("industry", "board").prefetch_related(
        "plans", "events__actor"
    )
    serializer_class = RevisionSerializer
    filterset_class = RevisionFilter
    ordering_fields = ["created_at"]

    def _out(self, revision, code=status.HTTP_200_OK):
        return Response(
            RevisionSerializer(self.get_queryset().get(pk=revision.pk)).data, status=code
        )

    @extend_schema(request=RevisionCreateInputSerializer, responses={201: RevisionSerializer})
    def create(self, request):
        """Open a new version of a listed product (or get the one already open)."""
        data = RevisionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = data.validated_data["product"]
        if not (is_operator(request.user) or product.provider_id == merchant_id_of(request.user)):
            raise BusinessRuleViolation(_("no such product"), field="product")
        revision = services.revision_open(
            actor=request.user,
            product=product,
            change_note=data.validated_data.get("change_note", ""),
        )
        return self._out(revision, status.HTTP_201_CREATED)

    @extend_schema(request=RevisionUpdateInputSerializer, responses=RevisionSerializer)
    def partial_update(self, request, pk=None):
        revision = self.get_object()
        data = RevisionUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if k not in ("grant", "provider")}
        revision = services.revision_update(actor=request.user, revision=revision, **fields)
        return self._out(revision)

    @extend_schema(request=None, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._out(services.revision_submit(actor=request.user, revision=self.get_object()))

    @extend_schema(request=None, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._out(services.revision_withdraw(actor=request.user, revision=self.get_object()))

    @extend_schema(request=None, responses=RevisionSerializer)
    @action(detail=True, methods=["post"], url_path="start-review", url_name="start-review")
    def start_review(self, request, pk=None):
        self.check_operator(request)
        return self._out(
            services.revision_start_review(actor=request.user, revision=self.get_object())
        )

    @extend_schema(request=ApproveInputSerializer, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        self.check_operator(request)
        revision = self.get_object()
        data = ApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(
            services.revision_approve(actor=request.user, revision=revision, **data.validated_data)
        )

    @extend_schema(request=RejectInputSerializer, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        self.check_operator(request)
        revision = self.get_object()
        data = RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(
            services.revision_reject(actor=request.user, revision=revision, **data.validated_data)
        )


class RevisionPlanViewSet(ServiceUpdateMixin, ScopedReadOnlyViewSet):
    """The plans a draft revision proposes (yuan); they go on sale when it is approved."""

    queryset = RevisionPlan.objects.select_related("revision__product")
    serializer_class = RevisionPlanSerializer
    filterset_fields = ["revision"]
    ordering = ["id"]
    ordering_fields = ["id"]

    service_output = RevisionPlanSerializer
    update_input = PlanUpdateInputSerializer
    update_service = services.revision_plan_update
    update_target = "plan"
    update_operators_only = False

    @extend_schema(
        request=RevisionPlanCreateInputSerializer, responses={201: RevisionPlanSerializer}
    )
    def create(self, request):
        data = RevisionPlanCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terms = dict(data.validated_data)
        revision = terms.pop("revision")
        if not (
            is_operator(request.user)
            or revision.product.provider_id == merchant_id_of(request.user)
        ):
            raise BusinessRuleViolation(_("no such revision"), field="revision")
        plan = services.revision_plan_create(actor=request.user, revision=revision, **terms)
        return Response(RevisionPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.revision_plan_delete(actor=request.user, plan=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MarketProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The market: every provider's listed products and the plans on sale, for buyers.

    Deliberately not narrowed by core.scoping: a listing is published to every
    signed-in role, as the DCAT catalog publishes it to other exchanges. It is
    read-only and shows only listed products; drafts, reviews and histories stay
    behind /products/, which is scoped to the provider.
    """

    published_listing = True
    queryset = Product.objects.filter(status=ProductStatus.LISTED).select_related(
        "provider", "industry", "board"
    )
    serializer_class = MarketProductSerializer
    filterset_class = ProductFilter
    search_fields = ["title", "summary", "tags"]
    ordering_fields = ["listed_at", "title", "min_price_fen"]
    ordering = ["-listed_at"]
    filter_backends = [ScopedFilterBackend, SearchFilter, NullsLastOrderingFilter]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch(
                    "plans",
                    queryset=PricingPlan.objects.filter(is_active=True).order_by("id"),
                    to_attr="plans_on_sale",
                ),
                "scenarios",
                Prefetch(
                    "registration_recognitions",
                    queryset=recognised_registrations_of(),
                    to_attr="recognitions_shown",
                ),
            )
        )

    def list(self, request, *args, **kwargs):
        kept = market_cache.page_kept(request)
        if kept is not None:
            return kept
        # The page as plain rows (products.api.market): the serializer's output,
        # without a model instance and ~30 field objects per product.
        queryset = market_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(market_page(page or []))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.action == "list" and isinstance(response, Response):
            market_cache.page_keep(request, response)
        return response
