from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Merchant
from core.api import IdRelatedField, YuanField
from core.models import StatusEvent
from interchange.models import RegistrationRecognition
from products.choices import (
    COMPLIANCE_CHECKLIST,
    QUALITY_CHECKLIST,
    DataSourceKind,
    DeliveryMode,
    Grade,
    PlanKind,
    SubscriptionPeriod,
)
from products.models import (
    CONTENT_FIELDS,
    MANUAL_SECTIONS,
    Board,
    Industry,
    PricingPlan,
    Product,
    ProductEvent,
    ProductReview,
    ProductRevision,
    ProductVersion,
    RevisionEvent,
    RevisionPlan,
)
from publicdata.models import Department, Grant, Scenario

if TYPE_CHECKING:
    _ModelSerializerBase = serializers.ModelSerializer
else:
    # A mixin at run time, so it is not itself a serializer anyone could use.
    _ModelSerializerBase = object


class CodeFixedOnUpdateMixin(_ModelSerializerBase):
    """The code identifies the record (URLs, the exported catalog): set once, never changed."""

    def get_extra_kwargs(self):
        kwargs = super().get_extra_kwargs()
        if self.instance is not None:
            kwargs.setdefault("code", {})["read_only"] = True
        return kwargs


class IndustrySerializer(CodeFixedOnUpdateMixin, serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["id", "code", "name", "name_en", "data_theme", "is_active"]


class BoardSerializer(CodeFixedOnUpdateMixin, serializers.ModelSerializer):
    industries = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Industry.objects.all(), required=False
    )
    department = IdRelatedField(queryset=Department.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Board
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "description",
            "department",
            "industries",
            "is_active",
        ]


class PlanTermsSerializer(serializers.Serializer):
    """Plan terms in yuan outside, fen inside."""

    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    kind = serializers.ChoiceField(PlanKind.choices)
    period = serializers.ChoiceField(SubscriptionPeriod.choices, required=False, allow_blank=True)
    price = YuanField(source="price_fen", required=False, help_text='Yuan, e.g. "12.34".')
    unit_price = YuanField(source="unit_price_fen", required=False, help_text="Yuan per call.")
    included_calls = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    monthly_cap = YuanField(source="monthly_cap_fen", required=False, allow_null=True)


class PlanSerializer(PlanTermsSerializer, serializers.ModelSerializer):
    class Meta:
        model = PricingPlan
        fields = [
            "id",
            "product",
            "name",
            "kind",
            "period",
            "price",
            "unit_price",
            "included_calls",
            "monthly_cap",
            "is_active",
        ]
        read_only_fields = ["id", "product", "is_active"]


class PlanCreateInputSerializer(PlanTermsSerializer):
    product = IdRelatedField(queryset=Product.objects.all(), own=True)


class PlanUpdateInputSerializer(PlanTermsSerializer):
    kind = serializers.ChoiceField(PlanKind.choices, required=False)


class RevisionPlanSerializer(PlanTermsSerializer, serializers.ModelSerializer):
    class Meta:
        model = RevisionPlan
        fields = [
            "id",
            "revision",
            "name",
            "kind",
            "period",
            "price",
            "unit_price",
            "included_calls",
            "monthly_cap",
        ]
        read_only_fields = ["id", "revision"]


class RevisionPlanCreateInputSerializer(PlanTermsSerializer):
    revision = IdRelatedField(queryset=ProductRevision.objects.all(), own=True)


class ProductEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model: type[StatusEvent] = ProductEvent
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class RevisionEventSerializer(ProductEventSerializer):
    class Meta(ProductEventSerializer.Meta):
        model = RevisionEvent


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", default=None, read_only=True)
    first_approver = serializers.CharField(
        source="first_approver.username", default=None, read_only=True
    )
    decided_by = serializers.CharField(source="decided_by.username", default=None, read_only=True)

    class Meta:
        model = ProductReview
        fields = [
            "id",
            "product",
            "revision",
            "version",
            "grade",
            "required_approvals",
            "reviewer",
            "review_started_at",
            "compliance_checklist",
            "quality_checklist",
            "first_approver",
            "first_approved_at",
            "verdict",
            "decided_by",
            "decided_at",
            "comments",
            "created_at",
        ]


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductVersion
        fields = ["number", "listed_at", "content", "plans"]


class ProductSerializer(serializers.ModelSerializer):
    """One row of the product list: no manual, no nested plans (kept cheap at scale)."""

    industry: "serializers.SlugRelatedField[Industry]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    board: "serializers.SlugRelatedField[Board]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    provider_name = serializers.CharField(source="provider.legal_name", read_only=True)
    provider_region = serializers.CharField(source="provider.region", read_only=True)
    starting_price = YuanField(source="min_price_fen", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "title",
            "summary",
            "provider",
            "provider_name",
            "provider_region",
            "industry",
            "board",
            "source_kind",
            "grade",
            "delivery_mode",
            "volume_bytes",
            "tags",
            "version",
            "status",
            "registration_number",
            "listed_at",
            "starting_price",
            "suspension_cause",
            "delisting_requested_at",
            "created_at",
            "updated_at",
        ]


class ProductDetailSerializer(ProductSerializer):
    plans = PlanSerializer(many=True, read_only=True)
    events = ProductEventSerializer(many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    versions = VersionSerializer(many=True, read_only=True)

    class Meta(ProductSerializer.Meta):
        fields = [
            *ProductSerializer.Meta.fields,
            "title_en",
            "summary_en",
            "coverage_start",
            "coverage_end",
            *MANUAL_SECTIONS,
            "sample",
            "grant",
            "scenarios",
            "delisting_request_reason",
            "plans",
            "reviews",
            "versions",
            "events",
        ]


class ContentInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    title_en = serializers.CharField(required=False, allow_blank=True, max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    summary_en = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    coverage_start = serializers.DateField(required=False, allow_null=True)
    coverage_end = serializers.DateField(required=False, allow_null=True)
    manual_data_source = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    manual_content = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    manual_coverage = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    manual_update_frequency = serializers.CharField(
        required=False, allow_blank=True, max_length=20000
    )
    manual_quality = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    manual_usage_restrictions = serializers.CharField(
        required=False, allow_blank=True, max_length=20000
    )
    industry = serializers.SlugRelatedField(
        slug_field="code", queryset=Industry.objects.filter(is_active=True)
    )
    board = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Board.objects.filter(is_active=True),
        allow_null=True,
        required=False,
    )
    source_kind = serializers.ChoiceField(DataSourceKind.choices, required=False)
    grade = serializers.ChoiceField(Grade.choices, required=False)
    delivery_mode = serializers.ChoiceField(DeliveryMode.choices)
    volume_bytes = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False)
    sample = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    tags = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ProductCreateInputSerializer(ContentInputSerializer):
    provider = IdRelatedField(
        queryset=Merchant.objects.all(),
        own=True,
        required=False,
        help_text="Operators name the provider; a merchant's people create for their own.",
    )
    grant = IdRelatedField(queryset=Grant.objects.all(), own=True, required=False, allow_null=True)
    scenarios = IdRelatedField(
        queryset=Scenario.objects.all(),
        own=True,
        many=True,
        required=False,
        help_text="Public data: the authorized scenarios the product serves.",
    )


class ProductUpdateInputSerializer(ProductCreateInputSerializer):
    provider = None  # type: ignore[assignment]  # the provider is fixed once created (DRF drops a field set to None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class RevisionSerializer(serializers.ModelSerializer):
    industry: "serializers.SlugRelatedField[Industry]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    board: "serializers.SlugRelatedField[Board]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    plans = RevisionPlanSerializer(many=True, read_only=True)
    events = RevisionEventSerializer(many=True, read_only=True)

    class Meta:
        model = ProductRevision
        fields = [
            "id",
            "product",
            "number",
            "status",
            "change_note",
            *CONTENT_FIELDS,
            "plans",
            "events",
            "created_at",
            "updated_at",
        ]


class RevisionCreateInputSerializer(serializers.Serializer):
    product = IdRelatedField(queryset=Product.objects.all(), own=True)
    change_note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class RevisionUpdateInputSerializer(ContentInputSerializer):
    change_note = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


def _checklist_field(items: dict, *, required: bool) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.BooleanField(),
        required=required,
        help_text="{item: true/false} over: " + ", ".join(items),
    )


class ApproveInputSerializer(serializers.Serializer):
    compliance_checklist = _checklist_field(COMPLIANCE_CHECKLIST, required=True)
    quality_checklist = _checklist_field(QUALITY_CHECKLIST, required=True)
    comments = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class RejectInputSerializer(serializers.Serializer):
    comments = serializers.CharField(max_length=5000, help_text="What the merchant must fix.")
    compliance_checklist = _checklist_field(COMPLIANCE_CHECKLIST, required=False)
    quality_checklist = _checklist_field(QUALITY_CHECKLIST, required=False)


class MarketPlanSerializer(PlanSerializer):
    class Meta(PlanSerializer.Meta):
        fields = [f for f in PlanSerializer.Meta.fields if f not in {"product", "is_active"}]


class RecognisedRegistrationSerializer(serializers.Serializer):
    partner = serializers.CharField(help_text="The partner exchange's name.")
    registration_number = serializers.CharField()
    # DRF's metaclass moves declared fields off the class, so this does not
    # shadow Field.source at run time; mypy sees only the class attribute.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="The partner's record of the product (its IRI)."
    )


def recognised_registrations_of(product=None):
    """The recognised registrations shown with a listed product (all of them, for a prefetch)."""
    recognitions = RegistrationRecognition.objects.filter(status="recognised")
    if product is not None:
        recognitions = recognitions.filter(product=product)
    return recognitions.select_related("partner", "partner_record").order_by("id")


class MarketProductSerializer(ProductSerializer):
    """What any signed-in merchant may read about a listed product: the offer, not the file.

    No review records, status history or delisting requests: those stay with the
    provider and the operators.
    """

    plans = MarketPlanSerializer(source="plans_on_sale", many=True, read_only=True)
    scenarios = IdRelatedField(many=True, read_only=True)
    recognised_registrations = serializers.SerializerMethodField(
        help_text="登记互认: the product's registrations at partner exchanges, recognised here."
    )

    @extend_schema_field(RecognisedRegistrationSerializer(many=True))
    def get_recognised_registrations(self, product) -> list[dict]:
        # The market's queryset prefetches them (one query per page, not one per product).
        recognitions = getattr(product, "recognitions_shown", None)
        if recognitions is None:
            recognitions = recognised_registrations_of(product)
        return [
            {
                "partner": recognition.partner.name,
                "registration_number": recognition.registration_number,
                "source": recognition.partner_record.iri,
            }
            for recognition in recognitions
        ]

    class Meta(ProductSerializer.Meta):
        fields = [
            "id",
            "title",
            "title_en",
            "summary",
            "summary_en",
            "coverage_start",
            "coverage_end",
            *MANUAL_SECTIONS,
            "sample",
            "provider",
            "provider_name",
            "provider_region",
            "industry",
            "board",
            "source_kind",
            "grade",
            "delivery_mode",
            "volume_bytes",
            "tags",
            "version",
            "registration_number",
            "listed_at",
            "starting_price",
            "grant",
            "scenarios",
            "plans",
            "recognised_registrations",
        ]
