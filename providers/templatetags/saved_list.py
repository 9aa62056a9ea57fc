"""The links that build a saved list without JavaScript (providers.saved_lists explains the design)."""

from django import template

from providers.caching import SAVED_LIST_PARAMETER
from providers.saved_lists import carried_slugs, list_url, with_carried_list

register = template.Library()


@register.simple_tag(takes_context=True)
def saved_list_state(context, provider):
    """What the page knows of the list it was reached from: its slugs, whether ``provider`` is on it,
    the list with ``provider`` added (the "Save" link) and the list as it is."""
    slugs = carried_slugs(context["request"])
    return {
        "count": len(slugs),
        "saved": provider.slug in slugs,
        "save_url": list_url(slugs if provider.slug in slugs else [*slugs, provider.slug]),
        "list_url": list_url(slugs),
    }


@register.simple_tag(takes_context=True)
def carrying_list(context, provider):
    """``provider``'s page, carrying the list this page was reached from, if any."""
    return with_carried_list(provider.get_absolute_url(), carried_slugs(context["request"]))


@register.inclusion_tag("providers/includes/carried_list_input.html", takes_context=True)
def carried_list_input(context):
    """The search form's hidden field that keeps the list this page was reached from through a new search."""
    return {"name": SAVED_LIST_PARAMETER, "value": ",".join(carried_slugs(context["request"]))}
