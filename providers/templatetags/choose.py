"""What "Help me choose" chose, shown above the results it leads to (providers/includes/choose_summary.html)."""

from babel import Locale
from django import template
from django.utils.translation import get_language, gettext

from providers.choose import FROM_PARAMETER, PLACE_PARAMETERS, answers_from_search, choose_url, kept_answers
from providers.search.filters import filter_choices

register = template.Library()

# The filters the questions set, in the order the summary lists them.
SUMMARISED = ("population", "modality", "medication", "setting", "payment", "language", "country")


@register.simple_tag(takes_context=True)
def choose_summary(context):
    """{"from_choose": bool, "chosen": [(label, names)], "change_url", "start_url"} for the results page."""
    request = context["request"]
    place = {key: value for key, value in kept_answers(request.GET).items() if key in PLACE_PARAMETERS}
    from_choose = request.GET.get(FROM_PARAMETER[0]) == FROM_PARAMETER[1]
    summary = {"from_choose": from_choose, "start_url": choose_url(1, place)}
    if not summary["from_choose"]:
        return summary
    search = context["filter"]
    cleaned = getattr(search.form, "cleaned_data", {})
    # Names from the search's choices as they are cached, not from the form, whose labels may carry counts.
    choices = filter_choices()[0]
    chosen = []
    for name in SUMMARISED:
        values = cleaned.get(name) or []
        if values:
            names = dict(choices[name])
            label = search.filters[name].label
            chosen.append((label, _any_of([names.get(code) or _language(code) for code in values])))
    summary["chosen"] = chosen
    summary["change_url"] = choose_url(2, answers_from_search(request.GET))
    return summary


def _language(code):
    """A language's name in the page's language, for one no published listing speaks (so not among the choices)."""
    try:
        return Locale.parse(get_language()).languages.get(code) or code
    except ValueError:
        return code


def _any_of(names):
    if len(names) == 1:
        return names[0]
    return gettext("%(names)s or %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}
