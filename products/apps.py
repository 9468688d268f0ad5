from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = _("Data products")

    def ready(self):
        from products.api import market_cache

        market_cache.connect()
