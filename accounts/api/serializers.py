from rest_framework import serializers

from accounts.choices import MerchantKind, Region
from accounts.models import Merchant, MerchantEvent


class MerchantEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = MerchantEvent
        fields = ["from_status", "to_status", "reason", "actor", "created_at"]


class MerchantSerializer(serializers.ModelSerializer):
    kinds = serializers.ListField(child=serializers.ChoiceField(MerchantKind.choices))

    class Meta:
        model = Merchant
        fields = [
            "id",
            "legal_name",
            "credit_code",
            "kinds",
            "region",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "bank_name",
            "bank_account_name",
            "bank_account_number",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class MerchantDetailSerializer(MerchantSerializer):
    events = MerchantEventSerializer(many=True, read_only=True)

    class Meta(MerchantSerializer.Meta):
        fields = [*MerchantSerializer.Meta.fields, "events"]


class MerchantCreateInputSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=40)
    kinds = serializers.ListField(child=serializers.ChoiceField(MerchantKind.choices), min_length=1)
    region = serializers.ChoiceField(Region.choices)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=100)
    contact_phone = serializers.CharField(max_length=32)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    bank_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    bank_account_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bank_account_number = serializers.CharField(max_length=40, required=False, allow_blank=True)


class MerchantUpdateInputSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200, required=False)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(MerchantKind.choices), min_length=1, required=False
    )
    region = serializers.ChoiceField(Region.choices, required=False)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=100, required=False)
    contact_phone = serializers.CharField(max_length=32, required=False)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    bank_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    bank_account_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    bank_account_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
