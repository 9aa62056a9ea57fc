"""Pages of search results that never count, or page through, more than a cap."""

import math

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """A Paginator that counts at most ``cap`` + 1 rows and serves only the pages within ``cap``.

    An exact COUNT reads every match: at 100,000 listings it cost more than the
    page itself. Nobody reads past a thousand results; they narrow the search, or
    download the CSV, which streams all of them. A deeper page number shows the
    last page within the cap, like any page number past the end.
    """

    def __init__(self, object_list, per_page, cap, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self):
        """The number of matches, or ``cap`` + 1 when there are more than ``cap``."""
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self):
        """More matches than are counted or listed."""
        return self.count > self.cap

    @cached_property
    def num_pages(self):
        listed = min(self.count, self.cap)
        if listed == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, math.ceil(listed / self.per_page))
