from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext, pgettext

from providers.models.places import KM_PER_MILE

register = template.Library()


@register.filter
def distance(kilometres, miles=False):
    """A distance for people: "800 m", "3.2 km", "12 km", or the same in miles."""
    if kilometres is None:
        return ""
    if miles:
        value, unit = kilometres / KM_PER_MILE, pgettext("unit", "mi")
        if value < 0.1:
            return gettext("less than %(distance)s") % {"distance": f"{number_format(0.1, 1)} {unit}"}
    else:
        if kilometres < 1:
            metres = pgettext("unit", "m")
            return f"{number_format(round(kilometres * 1000, -1), 0)} {metres}"
        value, unit = kilometres, pgettext("unit", "km")
    places = 1 if value < 10 else 0
    # Rounded first: number_format cuts extra decimals off rather than rounding them.
    return f"{number_format(round(value, places), places)} {unit}"


@register.filter
def about_distance(kilometres, miles=False):
    """A distance known only to about a kilometre (a listing whose address is hidden): "about 3 km"."""
    if kilometres is None:
        return ""
    value, unit = (kilometres / KM_PER_MILE, pgettext("unit", "mi")) if miles else (kilometres, pgettext("unit", "km"))
    return gettext("about %(distance)s") % {"distance": f"{number_format(max(round(value), 1), 0)} {unit}"}
