from django import template

from providers.models import Suggestion

register = template.Library()


@register.inclusion_tag("admin/providers/suggestion/waiting.html", takes_context=True)
def waiting_suggestions(context):
    """How many suggestions wait for a curator, for the admin's front page; nothing for who may not see them."""
    if not context["request"].user.has_perm("providers.view_suggestion"):
        return {"waiting": None}
    return {"waiting": Suggestion.objects.filter(status=Suggestion.Status.PENDING).count()}
