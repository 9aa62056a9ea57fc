"""Two hooks for django-axes' admin sign-in lockout: where a sign-in comes from, and what a locked-out person sees."""

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of the admin after too many failed sign-ins: when to try again, and nothing else.

    It never repeats the username, and reads the same whether or not that account exists.
    """
    cool_off = get_cool_off(request)
    now = timezone.now()
    response = render(
        request,
        "admin/locked_out.html",
        {
            **admin.site.each_context(request),
            "title": "Too many failed sign-ins",
            "wait": timeuntil(now + cool_off, now),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
