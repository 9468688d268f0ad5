"""Access control, every route by every role: drawn from the URL configuration and the admin.

Nothing here is a hand list of routes. The API's routes come from each app's
router, the request bodies from the OpenAPI schema generator (the same one that
writes /api/schema/), the admin's pages from the admin registry and the
records from the builders in tests/factories. A route or model registered
tomorrow is in the matrix the day it is registered.

For a record of one merchant (the owner, with a counterparty for two-sided
records), five callers make each request:

- the merchant's owner and its staff: what their role allows (see
  test_merchant_roles: the owner alone writes the profile, the bank account
  and the people);
- another merchant's owner: exactly the answer for an id that does not exist
  (404, or 403/405 where nobody of that role may act at all), nothing of the
  record in the body, nothing changed;
- an operator: sees every row, never a 404 or a 5xx;
- anonymous: 401/403 and nothing of the record.

Writes by owner, staff and operator run in a savepoint rolled back afterwards,
so every caller meets the same record.
"""

import contextlib
import importlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from config.urls import API_APPS
from core.scoping import OWNER_ROLE, PUBLIC
from tests.conftest import _token_client
from tests.factories.accounts import MerchantFactory, OperatorFactory, PersonFactory
from tests.factories.world import BUILDERS, load_all_builders

load_all_builders()

MISSING_ID = 2**62
ROLES = ("outsider", "anonymous", "owner", "staff", "operator")


# ---------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Call:
    method: str
    url_name: str
    own_parameters: tuple[str, ...] = ()


def _routers():
    for app in API_APPS:
        router = getattr(importlib.import_module(f"{app}.api.urls"), "router", None)
        if router is not None:
            yield from router.registry


def _object_calls(viewset) -> list[Call]:
    """Every request on one record: the detail with each method, and each detail action."""
    calls = [Call(method, "detail") for method in ("get", "patch", "put", "delete")]
    for extra in viewset.get_extra_actions():
        if extra.detail:
            own = tuple(re.compile(extra.url_path).groupindex)
            calls += [Call(method, extra.url_name, own) for method in sorted(extra.mapping)]
    return calls


def _object_routes():
    for prefix, viewset, basename in _routers():
        if getattr(viewset, "queryset", None) is None:
            continue  # computed answers (stats, disclosures) take no record id
        yield pytest.param(viewset, basename, _object_calls(viewset), id=prefix)


def _list_routes():
    for prefix, viewset, basename in _routers():
        if getattr(viewset, "queryset", None) is None:
            continue
        if not hasattr(viewset, "list"):
            continue
        yield pytest.param(viewset, basename, id=prefix)


def _model_admins():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"auth", "authtoken"}:
            continue
        yield pytest.param(model, model_admin, id=model._meta.label)


def _scope(model):
    return getattr(model, "merchant_scope", None)


def _merchant_owned(model) -> bool:
    """Rows that belong to merchants (not reference data, not operator-only records)."""
    scope = _scope(model)
    return bool(scope) and scope != PUBLIC


def _everyone_reads(viewset) -> bool:
    return _scope(viewset.queryset.model) == PUBLIC or getattr(viewset, "published_listing", False)


_request_serializers: dict[tuple[str, str], serializers.BaseSerializer] | None = None


def request_serializers() -> dict[tuple[str, str], serializers.BaseSerializer]:
    """(METHOD, url path template) -> the request serializer the OpenAPI schema declares."""
    global _request_serializers
    if _request_serializers is None:
        found = {}
        generator = SchemaGenerator()
        generator._initialise_endpoints()
        for path, path_regex, method, callback in generator.endpoints:
            if method in ("GET", "HEAD", "OPTIONS"):
                continue
            view = generator.create_view(callback, method)
            schema = view.schema
            schema.path, schema.path_regex, schema.method, schema.view = (
                path,
                path_regex,
                method,
                view,
            )
            request = schema.get_request_serializer()
            if isinstance(request, type) and issubclass(request, serializers.BaseSerializer):
                request = request()
            if isinstance(request, serializers.BaseSerializer):
                found[(method, path)] = request
        _request_serializers = found
    return _request_serializers


def _related_inputs(serializer):
    """(field name, related model, many) of each writable id reference of an input."""
    for name, field in serializer.fields.items():
        many = isinstance(field, serializers.ManyRelatedField)
        relation = field.child_relation if many else field
        if field.read_only or not isinstance(relation, serializers.RelatedField):
            continue
        if relation.queryset is not None:
            yield name, relation.queryset.model, many


def _body_references():
    for (method, path), serializer in sorted(request_serializers().items()):
        for name, model, many in _related_inputs(serializer):
            if _merchant_owned(model) and model in BUILDERS:
                yield pytest.param(method, path, name, model, many, id=f"{method} {path} {name}")


# ---------------------------------------------------------------- helpers


class World:
    """One record of a model for `merchant`, its people, another merchant, an operator."""

    def __init__(self, model):
        self.merchant, self.counterparty, self.other = (MerchantFactory() for _ in range(3))
        assert model in BUILDERS, f"register a builder for {model.__name__} in tests/factories"
        self.model = model
        self.record = BUILDERS[model](self.merchant, self.counterparty)
        self.users = {
            "owner": PersonFactory(merchant=self.merchant, merchant_role=OWNER_ROLE),
            "staff": PersonFactory(merchant=self.merchant, merchant_role="staff"),
            "outsider": PersonFactory(merchant=self.other, merchant_role=OWNER_ROLE),
            "operator": OperatorFactory(),
            "anonymous": None,
        }
        self.api = {role: _token_client(user) for role, user in self.users.items()}

    def state(self):
        row = self.model.objects.filter(pk=self.record.pk).first()
        return None if row is None else _comparable(row)

    def secrets(self) -> set[str]:
        return _distinctive_values(self.record)


def _comparable(row) -> dict:
    """The row's stored values, leaving out times that any save refreshes."""
    data = model_to_dict(row)
    for field in row._meta.concrete_fields:
        if getattr(field, "auto_now", False):
            data.pop(field.name, None)
    return data


_ORDINARY = re.compile(r"^[a-z_]+$")


def _distinctive_values(record) -> set[str]:
    """Values of the record that could only come from reading it (names, numbers, texts).

    Status words, codes, short values and values other rows share (a factory's
    bank name) prove nothing when they appear in an answer; they are left out.
    """
    values = set()
    rows = type(record)._default_manager
    for field in record._meta.concrete_fields:
        if field.choices or isinstance(field, models.BooleanField | models.ForeignKey):
            continue
        value = getattr(record, field.attname)
        if not isinstance(value, str) or len(value) < 8 or _ORDINARY.match(value):
            continue
        if not rows.filter(**{field.attname: value}).exclude(pk=record.pk).exists():
            values.add(value)
    return values


def _leaks(response, secrets: set[str]) -> set[str]:
    body = response.content.decode(errors="replace")
    with contextlib.suppress(ValueError, TypeError):
        body = json.dumps(response.json(), ensure_ascii=False)
    return {value for value in secrets if value in body}


def _url(basename, call: Call, viewset, lookup_value) -> str:
    kwargs = {name: "1" for name in call.own_parameters}
    kwargs[viewset.lookup_url_kwarg or viewset.lookup_field or "pk"] = lookup_value
    return reverse(f"{basename}-{call.url_name}", kwargs=kwargs)


def _send(client, call: Call, url):
    if call.method == "get":
        return client.get(url)
    return getattr(client, call.method)(url, {}, format="json")


def _shape(response, *ids) -> tuple[int, str]:
    """Status and body with the given ids blanked, to compare two answers."""
    text = response.content.decode(errors="replace")
    for value in ids:
        text = re.sub(rf"(?<!\d){value}(?!\d)", "<id>", text)
    return response.status_code, text


def _undone(work):
    savepoint = transaction.savepoint()
    try:
        return work()
    finally:
        transaction.savepoint_rollback(savepoint)


# ---------------------------------------------------------------- the API matrix


@pytest.mark.django_db
@pytest.mark.parametrize(("viewset", "basename", "calls"), list(_object_routes()))
def test_every_record_route_answers_each_role_as_its_rights_allow(viewset, basename, calls):
    # given a record of one merchant, and the five callers
    world = World(viewset.queryset.model)
    model, record = world.model, world.record
    lookup = getattr(record, viewset.lookup_field or "pk")
    missing = MISSING_ID if isinstance(lookup, int) else f"missing-{lookup}"
    secrets = world.secrets()
    public = _everyone_reads(viewset)
    owned = _merchant_owned(model)
    before = world.state()
    failures = []

    for call in calls:
        url = _url(basename, call, viewset, lookup)
        missing_url = _url(basename, call, viewset, missing)
        answers = {}
        # when each caller makes the request (writes of those who may write are undone)
        for role in ROLES:
            answers[role] = _undone(
                lambda role=role, call=call, url=url: _send(world.api[role], call, url)
            )
        as_missing = _undone(
            lambda call=call, url=missing_url: _send(world.api["outsider"], call, url)
        )
        after = world.state()
        reads = call.method == "get"

        # then
        def fail(role, why, call=call, answers=answers):
            answer = answers[role]
            failures.append(
                f"{call.method.upper()} {call.url_name} as {role}: {why} "
                f"({answer.status_code} {answer.content[:300]!r})"
            )

        for role, answer in answers.items():
            if answer.status_code >= 500:
                fail(role, "a server error")
        if after != before:
            failures.append(f"{call.method.upper()} {call.url_name}: the record changed")

        strangers = ["anonymous"] + ([] if public and reads else ["outsider"])
        if not owned and not (public and reads):
            strangers += ["owner", "staff"]  # operator-only records: the merchant is a stranger
        for role in strangers:
            answer = answers[role]
            if role == "anonymous":
                if not (public and reads) and answer.status_code not in (401, 403):
                    fail(role, "anonymous not refused")
            elif answer.status_code not in (403, 404, 405):
                fail(role, "a stranger not refused")
            elif _shape(answer, lookup) != _shape(as_missing, missing):
                fail(role, f"answered unlike a missing id ({as_missing.content[:200]!r})")
            if _leaks(answer, secrets) and not (public and reads):
                fail(role, f"the body shows the record: {_leaks(answer, secrets)}")

        if public and reads:
            for role in ("outsider", "owner", "staff", "operator"):
                if answers[role].status_code != 200:
                    fail(role, "reference data or a published listing not readable")
        if owned:
            for role in ("owner", "staff"):
                status = answers[role].status_code
                if reads and status != 200:
                    fail(role, "its own record not readable")
                if status in (401, 404):
                    fail(role, "its own record not found")
            staff_only_reads = getattr(model, "merchant_write_role", None) == OWNER_ROLE
            if not reads and staff_only_reads and answers["staff"].status_code not in (403, 405):
                fail("staff", "staff wrote an owner's record")
            if (
                not reads
                and not staff_only_reads
                and (answers["staff"].status_code != answers["owner"].status_code)
            ):
                fail("staff", f"staff answered unlike the owner ({answers['owner'].status_code})")
        operator_status = answers["operator"].status_code
        if operator_status in (401, 404) or (reads and operator_status != 200):
            fail("operator", "the operator does not reach the record")

    assert not failures, "\n".join(failures)


def test_every_api_path_with_a_parameter_is_in_the_matrix():
    # given every API URL with a path parameter, from the URL configuration
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.name

    covered = set()
    for param in _object_routes():
        _viewset, basename, calls = param.values
        covered |= {f"{basename}-{call.url_name}" for call in calls}
    # when
    uncovered = {
        name
        for route, name in walk(get_resolver().url_patterns)
        if route.startswith("api/v1/")
        and ("<" in route or "(?P<" in route.replace("(?P<format>", ""))
        and "format" not in route
        and name not in covered
        # the DCAT catalog: published records by their public key, read by anyone
        and not (name or "").startswith("catalog-")
        # a link carrying a secret token, not a record id (tests/delivery test its refusals)
        and "<str:token>" not in route
    }
    # then
    assert not uncovered, f"routes taking an id outside the matrix: {sorted(uncovered)}"


# ---------------------------------------------------------------- the admin pages


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), list(_model_admins()))
def test_admin_pages_of_a_record_open_only_to_those_who_may_see_it(model, model_admin, client):
    # given
    world = World(model)
    record = world.record
    info = (model._meta.app_label, model._meta.model_name)
    pages = {
        page: reverse(f"admin:{info[0]}_{info[1]}_{page}", args=[record.pk])
        for page in ("change", "delete", "history")
    }
    missing_pages = {
        page: reverse(f"admin:{info[0]}_{info[1]}_{page}", args=[MISSING_ID]) for page in pages
    }
    secrets = world.secrets()
    before = world.state()
    failures = []
    strangers = ["outsider", "anonymous"]
    if not _merchant_owned(model):
        strangers = ["anonymous"] if _scope(model) == PUBLIC else [*strangers, "owner", "staff"]

    # Staff's admin rights are the owner's, or fewer (test_merchant_roles compares them).
    visits = {"outsider": list(pages), "anonymous": list(pages), "owner": ["change", "history"]}
    visits["operator"] = ["change"]
    if _scope(model) == PUBLIC:
        visits["outsider"] = ["change", "history"]  # reference data: every merchant reads it
    for role in strangers:
        visits[role] = list(pages)
    visits.pop("staff", None)
    for role, visited in visits.items():
        user = world.users[role]
        client.logout()
        if user is not None:
            client.force_login(user)
        for page in visited:
            url = pages[page]
            # when
            opened = client.get(url)
            # then
            where = f"GET {page} as {role}"
            if opened.status_code >= 500:
                failures.append(f"{where}: a server error")
            if role in strangers:
                if opened.status_code not in (302, 403, 404):
                    failures.append(f"{where}: a stranger got {opened.status_code}")
                if opened.status_code == 302:
                    target = opened["Location"]
                    if not (target.rstrip("/").endswith("/admin") or "/login/" in target):
                        failures.append(f"{where}: redirected to {target}")
                if leaked := _leaks(opened, secrets):
                    failures.append(f"{where}: the page shows the record: {leaked}")
                if role == "outsider":
                    as_missing = client.get(missing_pages[page])
                    if opened.status_code != as_missing.status_code:
                        failures.append(f"{where}: unlike a missing id ({as_missing.status_code})")
            elif opened.status_code != 200:
                failures.append(f"{where}: its own record's page answered {opened.status_code}")
        if role in ("outsider", "anonymous"):
            # and their POSTs to the change and delete pages change nothing
            changed = client.post(pages["change"], {})
            deleted = client.post(pages["delete"], {"post": "yes"})
            refused = (302, 403, 404) if role in strangers else (200, 302, 403, 404)
            for verb, answer in (("change", changed), ("delete", deleted)):
                if answer.status_code not in refused:
                    failures.append(f"POST {verb} as {role}: {answer.status_code}")
            if world.state() != before:
                failures.append(f"POST change/delete as {role} changed the record")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- lists


@pytest.mark.django_db
@pytest.mark.parametrize(("viewset", "basename"), list(_list_routes()))
def test_no_list_shows_another_merchants_records(viewset, basename):
    # given a record of one merchant
    if not _merchant_owned(viewset.queryset.model) or _everyone_reads(viewset):
        pytest.skip("everyone reads these rows, or merchants see none")
    world = World(viewset.queryset.model)
    # when another merchant lists the route
    listed = world.api["outsider"].get(reverse(f"{basename}-list"), {"page_size": 500})
    # then
    assert listed.status_code == 200, listed.content
    assert str(world.record.pk) not in {str(row.get("id")) for row in listed.json()["results"]}
    assert not _leaks(listed, world.secrets())


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), list(_model_admins()))
def test_no_admin_changelist_shows_another_merchants_records(model, model_admin, client):
    # given
    if not _merchant_owned(model):
        pytest.skip("reference data, or records merchants never see")
    world = World(model)
    info = (model._meta.app_label, model._meta.model_name)
    change_url = reverse(f"admin:{info[0]}_{info[1]}_change", args=[world.record.pk])
    client.force_login(world.users["outsider"])
    # when
    listed = client.get(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
    # then
    assert listed.status_code in (200, 302, 403)
    assert change_url not in listed.content.decode()
    assert not _leaks(listed, world.secrets())


# ---------------------------------------------------------------- mass assignment


def _tampered(field, value, other_pk):
    """A different value of the field's type, or None when no safe one exists."""
    if isinstance(field, models.ForeignKey):
        return other_pk
    if field.choices:
        others = [choice for choice, _label in field.flatchoices if choice != value]
        return others[0] if others else None
    if isinstance(field, models.BooleanField):
        return not value
    if isinstance(field, models.IntegerField | models.BigIntegerField | models.AutoField):
        return (value or 0) + 1000
    if isinstance(field, models.CharField | models.TextField):
        return f"tampered {value}"[:12]
    if isinstance(field, models.DateTimeField):
        return "2001-01-01T00:00:00Z"
    if isinstance(field, models.DateField):
        return date(2001, 1, 1).isoformat()
    return None


def _writable_detail_calls():
    for prefix, viewset, basename in _routers():
        if getattr(viewset, "queryset", None) is None:
            continue
        model = viewset.queryset.model
        if not _merchant_owned(model):
            continue
        for method in ("patch", "put"):
            yield pytest.param(viewset, basename, method, id=f"{method} {prefix}")


@pytest.mark.django_db
@pytest.mark.parametrize(("viewset", "basename", "method"), list(_writable_detail_calls()))
def test_protected_fields_cannot_be_assigned(viewset, basename, method):
    # given a record, and a body setting every field its request does not take
    world = World(viewset.queryset.model)
    model, record = world.model, world.record
    lookup = getattr(record, viewset.lookup_field or "pk")
    url = reverse(f"{basename}-detail", args=[lookup])
    path = re.sub(r"\{\w+\}", "{pk}", url.replace(str(lookup), "{pk}"))
    writable = set()
    for (schema_method, schema_path), serializer in request_serializers().items():
        if schema_method == method.upper() and re.sub(r"\{\w+\}", "{pk}", schema_path) == path:
            writable = {name for name, field in serializer.fields.items() if not field.read_only}
    other = BUILDERS[model](world.other, world.counterparty)
    body = {}
    for field in model._meta.concrete_fields:
        if field.name in writable or field.attname in writable:
            continue
        value = _tampered(field, getattr(record, field.attname), getattr(other, "pk", None))
        if value is not None and not isinstance(value, datetime):
            body[field.name] = value
    before = world.state()
    failures = []
    for role in ("owner", "staff", "operator"):
        # when each who may write the record sends it
        savepoint = transaction.savepoint()
        answer = world.api[role].generic(
            method.upper(), url, json.dumps(body), content_type="application/json"
        )
        after = world.state() or {}
        transaction.savepoint_rollback(savepoint)
        # then nothing it names changes
        if answer.status_code >= 500:
            failures.append(f"{role}: a server error {answer.content[:300]!r}")
        if changed := sorted(name for name in body if before.get(name) != after.get(name)):
            failures.append(f"{role}: {changed} were assigned through {method.upper()} {url}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- references


def _filter_references():
    for viewset, basename in (param.values for param in _list_routes()):
        filterset_class = getattr(viewset, "filterset_class", None)
        if filterset_class is None:
            continue
        model = viewset.queryset.model
        for name, declared in filterset_class.base_filters.items():
            target = _filter_target(model, declared.field_name)
            if target is not None and _merchant_owned(target) and target in BUILDERS:
                yield pytest.param(viewset, basename, name, target, id=f"{basename}?{name}")


def _filter_target(model, lookup):
    """The model a filter's lookup path ends on when it names a relation (or its id)."""
    parts = lookup.split("__")
    if parts and parts[-1] in ("id", "pk"):
        parts = parts[:-1]
    current = model
    for part in parts:
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:  # a computed filter: no model field
            return None
        if not field.is_relation or field.related_model is None:
            return None
        current = field.related_model
    return current if parts else None


@pytest.mark.django_db
@pytest.mark.parametrize(("viewset", "basename", "name", "target"), list(_filter_references()))
def test_a_filter_on_another_merchants_record_answers_like_a_missing_id(
    viewset, basename, name, target
):
    # given a record of another merchant that the filter names
    world = World(target)
    _skip_if_published(world)
    url = reverse(f"{basename}-list")
    # when the outsider filters by it, and by an id that does not exist
    theirs = world.api["outsider"].get(url, {name: world.record.pk})
    missing = world.api["outsider"].get(url, {name: MISSING_ID})
    # then the two answers are the same
    assert theirs.status_code < 500
    assert _shape(theirs, world.record.pk) == _shape(missing, MISSING_ID)


def _skip_if_published(world: World) -> None:
    published = getattr(world.model, "merchant_published", None)
    if published is not None and world.model.objects.filter(published, pk=world.record.pk):
        pytest.skip("every merchant may name a published row (core.scoping.visible_to)")


def _path_url(path: str, world: World, own_record) -> str:
    url = path
    for name in re.findall(r"\{(\w+)\}", path):
        value = "1" if name == "index" else getattr(own_record, "pk", 1)
        url = url.replace("{" + name + "}", str(value))
    return url


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "name", "target", "many"), list(_body_references()))
def test_a_body_naming_another_merchants_record_answers_like_a_missing_id(
    method, path, name, target, many
):
    # given a record of another merchant, of the model the field refers to
    world = World(target)
    _skip_if_published(world)
    caller = world.api["outsider"]
    own_record = None
    view_model = _model_of_path(path)
    if view_model is not None and "{" in path:
        own_record = BUILDERS[view_model](world.other, world.counterparty)
    url = _path_url(path, world, own_record)

    def body(value):
        return json.dumps({name: [value] if many else value})

    # when the outsider names it, and an id that does not exist
    theirs = _undone(lambda: caller.generic(method, url, body(world.record.pk), "application/json"))
    missing = _undone(lambda: caller.generic(method, url, body(MISSING_ID), "application/json"))
    # then the two answers are the same
    assert theirs.status_code < 500, theirs.content
    assert _shape(theirs, world.record.pk) == _shape(missing, MISSING_ID)


def _model_of_path(path: str):
    for _prefix, viewset, basename in _routers():
        if getattr(viewset, "queryset", None) is None:
            continue
        if not hasattr(viewset, "list"):
            continue
        list_url = reverse(f"{basename}-list")
        if path.startswith(list_url) and path[len(list_url) :].startswith("{"):
            return viewset.queryset.model
    return None
