from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularSwaggerView

from accounts.api.token import TokenObtainView
from core.schema_view import SchemaDocumentView
from delivery.gateway_views import gateway_view
from oversight.home import operator_home

admin.site.site_header = _("Data exchange trading backend")
admin.site.site_title = _("Data exchange")
admin.site.index_title = _("Exchange administration")
# Pages outside the admin that use its templates (setting a password) carry its title,
# not Django's default "Django administration".
SITE_TITLES = {"site_header": admin.site.site_header, "site_title": admin.site.site_title}

API_APPS = [
    "accounts",
    "products",
    "publicdata",
    "marketplace",
    "settlements",
    "oversight",
    "interchange",
    "querying",
    "delivery",
]

urlpatterns = [
    path("admin/operator/", admin.site.admin_view(operator_home), name="operator-home"),
    path("admin/", admin.site.urls),
    path("join/", include("accounts.urls")),
    # The one-time link of an approval e-mail: the new owner sets a password here.
    path(
        "password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(extra_context=SITE_TITLES),
        name="password_reset_confirm",
    ),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(extra_context=SITE_TITLES),
        name="password_reset_complete",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/auth/token/", TokenObtainView.as_view(), name="api-token"),
    *[path("api/v1/", include(f"{app}.api.urls")) for app in API_APPS],
    # The API gateway: buyers' calls to API products, forwarded to the seller's upstream.
    path(
        "gateway/<str:registration_number>/<path:path>",
        gateway_view,
        name="gateway",
    ),
    path("gateway/<str:registration_number>/", gateway_view, name="gateway-root"),
    path("api/schema/", SchemaDocumentView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# A path under /api/ that matches no route answers the API's JSON error, not a page.
handler404 = "core.errors.page_not_found"
