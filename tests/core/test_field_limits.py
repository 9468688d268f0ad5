"""Every field a client writes has a shape the database can hold.

Walks every serializer of every app's API (present and future), so a new
text field without a length limit, or an id field that would truncate 61.9
to 61, fails here rather than in production.
"""

import importlib
import inspect
import pkgutil

import pytest
from rest_framework import serializers

from config.urls import API_APPS
from core.api import IdRelatedField


def _api_serializers():
    for app in API_APPS:
        package = importlib.import_module(f"{app}.api")
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{app}.api.{info.name}")
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != module.__name__ or not _takes_input(cls):
                    continue
                yield pytest.param(cls, id=f"{module.__name__}.{name}")


def _takes_input(cls) -> bool:
    """Model serializers write through viewsets; plain ones read input only when named so."""
    if not issubclass(cls, serializers.BaseSerializer):
        return False
    return issubclass(cls, serializers.ModelSerializer) or "Input" in cls.__name__


def _writable_fields(serializer, path=""):
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.BaseSerializer):
            yield from _writable_fields(field, f"{path}{name}.")
        elif isinstance(field, serializers.ManyRelatedField):
            yield f"{path}{name}", field.child_relation
        elif isinstance(field, serializers.ListField):
            yield f"{path}{name}", field.child
        else:
            yield f"{path}{name}", field


@pytest.mark.parametrize("serializer_class", list(_api_serializers()))
def test_every_writable_field_is_bounded(serializer_class):
    serializer = serializer_class()
    for path, field in _writable_fields(serializer):
        if isinstance(field, serializers.CharField):
            assert field.max_length is not None, f"{path}: free text needs a max_length"
        if isinstance(field, serializers.PrimaryKeyRelatedField):
            assert isinstance(field, IdRelatedField), f"{path}: use core.api.IdRelatedField"
