"""What a request tells about the visitor, read the same way by every part of the site."""

import ipaddress

from django.conf import settings


def client_ip(request):
    """The address a request comes from: REMOTE_ADDR, or the one our outermost proxy received it from.

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


def language_region(accept_language: str) -> str:
    """The country of the browser's most preferred language that names one, or "".

    Reads an Accept-Language header: "pt-BR,pt;q=0.9,en;q=0.8" gives "BR". Only the
    region is taken from it; the page's language comes from its URL.
    """
    preferences = []
    for position, entry in enumerate((accept_language or "")[:500].split(",")):
        tag, _, quality = entry.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        _language, _, region = tag.strip().partition("-")
        if len(region) == 2 and region.isalpha() and weight > 0:
            preferences.append((-weight, position, region.upper()))
    return min(preferences)[2] if preferences else ""
