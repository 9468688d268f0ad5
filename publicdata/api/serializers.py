from typing import Any

from rest_framework import serializers

from accounts.choices import Region
from accounts.models import Merchant
from core.api import BoundedTextField, IdRelatedField, ReasonField, YuanField
from products.choices import Grade
from products.models import Industry
from publicdata.choices import AssessmentVerdict, DepartmentLevel, ScenarioPurpose
from publicdata.models import (
    CatalogEntry,
    Department,
    Grant,
    Scenario,
    ScenarioAssessment,
    ScenarioAuthorization,
)


class EventSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    actor = serializers.CharField(
        source="actor.username", default=None, allow_null=True, read_only=True
    )
    created_at = serializers.DateTimeField()


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "level", "region"]
        read_only_fields = ["id"]


class DepartmentUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    level = serializers.ChoiceField(DepartmentLevel.choices, required=False)
    region = serializers.ChoiceField(Region.choices, required=False, allow_blank=True)


class CatalogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogEntry
        fields = ["id", "department", "code", "name", "fields", "grade", "update_frequency"]
        read_only_fields = ["id"]


class CatalogEntryUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    # A catalog entry's "fields" column; DRF's metaclass takes declared fields
    # off the class, so this does not shadow Serializer.fields at run time.
    fields = BoundedTextField(required=False, allow_blank=True)  # type: ignore[assignment]
    grade = serializers.ChoiceField(Grade.choices, required=False)
    update_frequency = serializers.CharField(max_length=60, required=False, allow_blank=True)


class GrantSerializer(serializers.ModelSerializer):
    industry: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    fee_ceiling = YuanField(source="fee_ceiling_fen", help_text="Yuan, decimal string.")
    grantee_name = serializers.CharField(source="grantee.legal_name", read_only=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "department",
            "industry",
            "grantee",
            "grantee_name",
            "valid_from",
            "valid_until",
            "revenue_share_bps",
            "fee_ceiling",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class GrantDetailSerializer(GrantSerializer):
    entries = IdRelatedField(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)

    class Meta(GrantSerializer.Meta):
        fields = [*GrantSerializer.Meta.fields, "entries", "events"]
        read_only_fields = fields


class GrantCreateInputSerializer(serializers.Serializer):
    department = IdRelatedField(queryset=Department.objects.all())
    industry = serializers.SlugRelatedField(
        slug_field="code", queryset=Industry.objects.all(), help_text="The industry's code."
    )
    grantee = IdRelatedField(queryset=Merchant.objects.all())
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    revenue_share_bps = serializers.IntegerField(min_value=0, max_value=10_000)
    fee_ceiling = YuanField(source="fee_ceiling_fen")
    entries = IdRelatedField(
        queryset=CatalogEntry.objects.all(),
        many=True,
        required=False,
        help_text="Catalog entries covered; all of the department's when left out.",
    )
    reason = ReasonField(max_length=2000, required=False, allow_blank=True, default="")


class GrantUpdateInputSerializer(serializers.Serializer):
    valid_from = serializers.DateTimeField(required=False)
    valid_until = serializers.DateTimeField(required=False)
    revenue_share_bps = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    fee_ceiling = YuanField(source="fee_ceiling_fen", required=False)
    entries = IdRelatedField(queryset=CatalogEntry.objects.all(), many=True, required=False)


class ScenarioAssessmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScenarioAssessment
        fields = ["assessor", "assessed_on", "risk_findings", "verdict", "created_at"]
        read_only_fields = fields


class ScenarioAuthorizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScenarioAuthorization
        fields = ["document_number", "valid_from", "valid_until", "created_at"]
        read_only_fields = fields


class ScenarioSerializer(serializers.ModelSerializer):
    assessment = ScenarioAssessmentSerializer(read_only=True, default=None)
    authorization = ScenarioAuthorizationSerializer(read_only=True, default=None)

    class Meta:
        model = Scenario
        fields = [
            "id",
            "grant",
            "name",
            "description",
            "purpose",
            "status",
            "assessment",
            "authorization",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ScenarioDetailSerializer(ScenarioSerializer):
    events = EventSerializer(many=True, read_only=True)

    class Meta(ScenarioSerializer.Meta):
        fields = [*ScenarioSerializer.Meta.fields, "events"]
        read_only_fields = fields


class ScenarioCreateInputSerializer(serializers.Serializer):
    grant = IdRelatedField(queryset=Grant.objects.all())
    name = serializers.CharField(max_length=200)
    description = BoundedTextField(required=False, allow_blank=True, default="")
    purpose = serializers.ChoiceField(ScenarioPurpose.choices)


class ScenarioAssessInputSerializer(serializers.Serializer):
    assessor = serializers.CharField(max_length=200)
    assessed_on = serializers.DateField()
    risk_findings = BoundedTextField()
    verdict = serializers.ChoiceField(AssessmentVerdict.choices)


class ScenarioAuthorizeInputSerializer(serializers.Serializer):
    document_number = serializers.CharField(max_length=60)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
