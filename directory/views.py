from django.db.models import Count
from django.shortcuts import render

from providers.filters import ProviderFilter
from providers.models import Provider


def home(request):
    totals = Provider.objects.published().aggregate(providers=Count("pk"), countries=Count("country", distinct=True))
    return render(request, "home.html", {"filter": ProviderFilter(), "totals": totals})


def about(request):
    return render(request, "about.html")
