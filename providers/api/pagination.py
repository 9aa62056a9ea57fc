from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

# Deeper pages would ask the database for offsets it cannot represent; they are empty anyway.
MAX_PAGE_NUMBER = 10**6


def positive_int(text, default):
    """``text`` as a whole number above zero; ``default`` for anything else (paging never fails)."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


class PageWithoutCount(BasePagination):
    """Numbered pages that never COUNT the whole result.

    One extra row tells whether a next page exists; at a million listings the
    count would cost more than the page itself. Works with every ordering,
    distance included.
    """

    page_size = 20
    max_page_size = 100
    page_query_param = "page"
    page_size_query_param = "per_page"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.number = min(positive_int(request.query_params.get(self.page_query_param), 1), MAX_PAGE_NUMBER)
        self.size = min(
            positive_int(request.query_params.get(self.page_size_query_param), self.page_size), self.max_page_size
        )
        start = (self.number - 1) * self.size
        rows = list(queryset[start : start + self.size + 1])
        self.has_next = len(rows) > self.size
        return rows[: self.size]

    def get_paginated_response(self, data):
        return Response(
            {
                "page": self.number,
                "per_page": self.size,
                "next": self._link(self.number + 1) if self.has_next else None,
                "previous": self._link(self.number - 1) if self.number > 1 else None,
                "results": data,
            }
        )

    def _link(self, number):
        url = self.request.build_absolute_uri()
        return (
            remove_query_param(url, self.page_query_param)
            if number == 1
            else replace_query_param(url, self.page_query_param, number)
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["page", "per_page", "next", "previous", "results"],
            "properties": {
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
