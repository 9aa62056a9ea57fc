from django import template

from providers.places import KM_PER_MILE

register = template.Library()


@register.filter
def distance(kilometres, miles=False):
    """A distance for people: "800 m", "3.2 km", "12 km", or the same in miles."""
    if kilometres is None:
        return ""
    if miles:
        value, unit = kilometres / KM_PER_MILE, "mi"
        if value < 0.1:
            return "less than 0.1 mi"
    else:
        if kilometres < 1:
            return f"{round(kilometres * 1000, -1):.0f} m"
        value, unit = kilometres, "km"
    return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
