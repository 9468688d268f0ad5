from rest_framework import serializers

from core.api import IdRelatedField
from interchange.models import (
    HarvestRun,
    PartnerExchange,
    PartnerRecord,
    PartnerRecordEvent,
    RegistrationRecognition,
)
from products.models import Industry, Product


class PartnerExchangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerExchange
        fields = [
            "id",
            "name",
            "catalog_url",
            "changes_url",
            "trust_level",
            "harvest_every_minutes",
            "is_active",
            "last_good_run",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "last_good_run", "created_at", "updated_at"]


class PartnerExchangeUpdateInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerExchange
        fields = [
            "name",
            "catalog_url",
            "changes_url",
            "trust_level",
            "harvest_every_minutes",
            "is_active",
        ]
        extra_kwargs = {name: {"required": False} for name in fields}


class HarvestInputSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        required=False, default=False, help_text="Read everything, not only changes."
    )


class HarvestQueuedSerializer(serializers.Serializer):
    partner = serializers.IntegerField()
    task_id = serializers.CharField()


class HarvestRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = HarvestRun
        fields = [
            "id",
            "partner",
            "started_at",
            "finished_at",
            "status",
            "full",
            "changes_since",
            "pages",
            "bytes_read",
            "new_count",
            "updated_count",
            "unchanged_count",
            "delisted_count",
            "refused_count",
            "errors",
        ]


class PartnerRecordEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerRecordEvent
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class PartnerListingSerializer(serializers.ModelSerializer):
    """A partner's listing in our market: what it is, who publishes it, where it comes from."""

    partner_name = serializers.CharField(source="partner.name", read_only=True)
    industry: "serializers.SlugRelatedField[Industry]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    # Not Field.source: DRF's metaclass takes declared fields off the class.
    source = serializers.CharField(  # type: ignore[assignment]
        source="iri", read_only=True, help_text="dct:source: the partner's record of it."
    )
    origin = serializers.SerializerMethodField(help_text='Always "partner".')

    class Meta:
        model = PartnerRecord
        fields = [
            "id",
            "origin",
            "partner",
            "partner_name",
            "source",
            "registration_number",
            "title",
            "title_en",
            "summary",
            "summary_en",
            "publisher_name",
            "publisher_credit_code",
            "industry",
            "grade",
            "delivery_mode",
            "tags",
            "landing_page",
            "partner_modified",
            "status",
            "updated_at",
        ]

    def get_origin(self, obj) -> str:
        return "partner"


class PartnerRecordSerializer(PartnerListingSerializer):
    """The operators' view: the listing plus its raw record, hash and history."""

    events = PartnerRecordEventSerializer(many=True, read_only=True)

    class Meta(PartnerListingSerializer.Meta):
        fields = [
            *PartnerListingSerializer.Meta.fields,
            "identifier",
            "status_reason",
            "content_hash",
            "raw",
            "first_run",
            "last_changed_run",
            "created_at",
            "events",
        ]


class RecognitionSerializer(serializers.ModelSerializer):
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    partner_source = serializers.CharField(source="partner_record.iri", read_only=True)

    class Meta:
        model = RegistrationRecognition
        fields = [
            "id",
            "product",
            "partner",
            "partner_name",
            "registration_number",
            "partner_source",
            "status",
            "created_at",
        ]


class RecognitionCreateInputSerializer(serializers.Serializer):
    product = IdRelatedField(queryset=Product.objects.all(), own=True)
    partner = IdRelatedField(queryset=PartnerExchange.objects.all())
    registration_number = serializers.CharField(max_length=64)
