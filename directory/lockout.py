"""Two hooks for django-axes' admin sign-in lockout: where a sign-in comes from, and what a locked-out person sees."""

import ipaddress

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil


def client_ip(request):
    """The address a sign-in comes from: REMOTE_ADDR, or the one our outermost proxy received it from.

    Each proxy appends the address it was contacted from to X-Forwarded-For, so with
    TRUSTED_PROXY_COUNT proxies the entry that many places from the end is the client's;
    anything before it is whatever the client chose to send, and is ignored.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    # Fewer entries than proxies: the request did not come through them, so the header is not theirs.
    if count < 1 or len(forwarded) < count:
        return remote_addr
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return remote_addr


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
