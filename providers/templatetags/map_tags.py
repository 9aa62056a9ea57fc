from django import template

from providers.models import Provider

register = template.Library()


@register.filter
def map_markers(providers):
    """Name, page and position of each provider that has coordinates, for the map's JSON.

    Takes one provider (a provider's own page) or any iterable of them (a page of results).
    """
    if isinstance(providers, Provider):
        providers = [providers]
    return [
        {
            "name": provider.name,
            "url": provider.get_absolute_url(),
            "lat": provider.latitude,
            "lng": provider.longitude,
        }
        for provider in providers
        # A place whose address is hidden gets no marker, not even a rounded one.
        if provider.has_coordinates and not provider.address_hidden
    ]
