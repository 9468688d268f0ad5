from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Exchange core")

    def ready(self):
        from django.db import models
        from rest_framework import serializers

        from core.api import BoundedTextField, IdRelatedField

        # Every ModelSerializer of every app, present and future, takes ids
        # as integers only and bounds free text: DRF reads these two class
        # attributes when it builds fields for model columns, so setting
        # them once here covers every serializer without a shared subclass.
        serializers.ModelSerializer.serializer_related_field = IdRelatedField
        serializers.ModelSerializer.serializer_field_mapping[models.TextField] = BoundedTextField
