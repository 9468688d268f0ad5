from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueryingConfig(AppConfig):
    name = "querying"
    verbose_name = _("Query service (data usable, not visible)")
    default_auto_field = "django.db.models.BigAutoField"
