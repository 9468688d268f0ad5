"""Every admin page shows money as people read it: yuan, never a raw fen column."""

from django.contrib import admin
from django.test import RequestFactory


def _shown_names(model_admin, request) -> list[tuple[str, str]]:
    names = [("list", n) for n in model_admin.get_list_display(request) if isinstance(n, str)]
    names += [("detail", n) for n in model_admin.get_fields(request) if isinstance(n, str)]
    for inline in model_admin.get_inline_instances(request):
        names += [(f"inline {inline.model.__name__}", n) for n in inline.get_fields(request)]
    return names


def test_no_admin_page_shows_an_amount_in_fen(operator):
    # given every registered admin, opened by an operator
    request = RequestFactory().get("/admin/")
    request.user = operator
    # when the columns and fields each page shows are listed
    in_fen = [
        (type(model_admin).__name__, where, name)
        for model_admin in admin.site._registry.values()
        for where, name in _shown_names(model_admin, request)
        if isinstance(name, str) and name.endswith("_fen")
    ]
    # then none is a fen column: amounts are shown through core.formatting.format_yuan
    assert not in_fen, "\n".join(map(str, in_fen))
