from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from oversight.models import AuditFinding, AuditFindingEvent, AuditRun, ChainSeal


class AuditFindingEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = AuditFindingEvent
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class AuditFindingSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", default=None, read_only=True
    )
    resolved_by = serializers.CharField(source="resolved_by.username", default=None, read_only=True)

    class Meta:
        model = AuditFinding
        fields = [
            "id",
            "kind",
            "severity",
            "status",
            "fingerprint",
            "summary",
            "details",
            "object_type",
            "object_id",
            "objects_concerned",
            "first_seen_at",
            "last_seen_at",
            "first_run",
            "last_run",
            "times_seen",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields

    def get_object_type(self, obj) -> str | None:
        if obj.content_type_id is None:
            return None
        ct = obj.content_type
        return f"{ct.app_label}.{ct.model}"


class AuditFindingDetailSerializer(AuditFindingSerializer):
    events = AuditFindingEventSerializer(many=True, read_only=True)

    class Meta(AuditFindingSerializer.Meta):
        fields = [*AuditFindingSerializer.Meta.fields, "events"]
        read_only_fields = fields


class AuditRunSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(
        source="requested_by.username", default=None, read_only=True
    )

    class Meta:
        model = AuditRun
        fields = [
            "id",
            "trigger",
            "requested_by",
            "status",
            "full_chain_verify",
            "created_at",
            "started_at",
            "finished_at",
            "counts",
            "new_findings",
            "updated_findings",
            "seals_verified",
            "chain_head_sequence",
            "chain_head_digest",
            "error",
        ]
        read_only_fields = fields


class AuditRunCreateInputSerializer(serializers.Serializer):
    full_chain_verify = serializers.BooleanField(
        required=False, default=False, help_text="Re-hash every sealed row (slow at scale)."
    )


class ChainSealSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChainSeal
        fields = [
            "id",
            "sequence",
            "table",
            "first_id",
            "last_id",
            "row_count",
            "merkle_root",
            "previous_digest",
            "digest",
            "sealed_at",
            "verified_at",
        ]
        read_only_fields = fields


# /stats/ is a list route answering one object; without this the schema says array.
@extend_schema_serializer(many=False)
class StatsSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    figures = serializers.DictField(help_text="Money in yuan strings; volumes in bytes.")


class DisclosureQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        min_value=2015, max_value=9999, help_text="Calendar year disclosed (defaults to last year)."
    )
