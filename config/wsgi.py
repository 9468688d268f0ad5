import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# Load every view, serializer and URL pattern now rather than on the first
# request, then move all of it out of the garbage collector's sight: it lives
# as long as the worker. Without this each full collection walks the whole
# framework, and one request in a few hundred waited about 60 ms for it
# (bench/benchmarks/catalog.py showed it as a lone p95 spike).
import_module(settings.ROOT_URLCONF)
gc.freeze()
