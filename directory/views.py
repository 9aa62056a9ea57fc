from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.shortcuts import render
from django.views import defaults

from providers.caching import cached_page
from providers.models import CrisisLine, Suggestion
from providers.search.filters import ProviderFilter, published_totals


@cached_page
def home(request):
    return render(request, "home.html", {"filter": ProviderFilter(), "totals": published_totals()})


@cached_page
def about(request):
    return render(request, "about.html")


@cached_page
def crisis_lines(request):
    lines = CrisisLine.objects.by_country()
    by_country = sorted((lines[code] for code in lines if code), key=lambda listed: listed[0].country.name)
    return render(request, "crisis_lines.html", {"international": lines.get("", []), "by_country": by_country})


def bad_request(request, exception):
    """A form sent over Django's size limits gets a page saying so (413), not a bare "Bad Request"."""
    if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
        return render(request, "413.html", {"message_max_length": Suggestion.MESSAGE_MAX_LENGTH}, status=413)
    return defaults.bad_request(request, exception)
