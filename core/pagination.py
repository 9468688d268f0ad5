from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Cursor pages: no COUNT(*) per request and stable under concurrent inserts.

    Views may order by any indexed field through `?ordering=`; the primary key
    breaks ties so a cursor never skips or repeats rows.
    """

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") in {"id", "pk"} for field in ordering):
            direction = "-" if ordering and ordering[0].startswith("-") else ""
            ordering.append(f"{direction}id")
        return tuple(ordering)
