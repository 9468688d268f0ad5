"""A product's content is named once, in products.models.CONTENT_FIELDS.

The model, the API's input and output, the services that copy a revision onto
the product and the admin forms all take their list from there; these tests
fail when one of them grows a field the others do not know.
"""

from products.admin import ProductAdmin, ProductRevisionAdmin
from products.api.serializers import (
    ContentInputSerializer,
    ProductDetailSerializer,
    RevisionSerializer,
)
from products.models import CONTENT_FIELDS, Product, ProductContent, ProductRevision
from products.services.editing import EDITABLE_FIELDS


def test_content_fields_are_the_abstract_content_model_plus_its_two_references():
    declared = {field.name for field in ProductContent._meta.fields}
    assert set(CONTENT_FIELDS) == declared | {"industry", "board"}
    assert len(CONTENT_FIELDS) == len(set(CONTENT_FIELDS))


def test_product_and_revision_both_carry_every_content_field():
    for model in (Product, ProductRevision):
        names = {field.name for field in model._meta.get_fields()}
        assert set(CONTENT_FIELDS) <= names, model


def test_the_api_takes_and_shows_exactly_the_content_fields():
    assert set(ContentInputSerializer().fields) == set(CONTENT_FIELDS)
    assert set(CONTENT_FIELDS) <= set(ProductDetailSerializer.Meta.fields)
    assert set(CONTENT_FIELDS) <= set(RevisionSerializer.Meta.fields)


def test_services_and_admin_forms_edit_the_content_fields():
    assert set(EDITABLE_FIELDS) == {*CONTENT_FIELDS, "grant"}
    assert set(CONTENT_FIELDS) <= set(ProductAdmin.fields)
    assert set(CONTENT_FIELDS) <= set(ProductRevisionAdmin.fields)
