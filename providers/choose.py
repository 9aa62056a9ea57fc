"""Help me choose: seven plain questions, one per screen, that end on a filtered search.

Words like "MAT", "outpatient" or "aftercare" mean little to someone in crisis. Each screen
asks one question as a GET form whose hidden inputs carry the earlier answers, so it works
without JavaScript and stores nothing (no session, no cookie). The answers only pick the
search's filters (the same parameters and term slugs as providers/search/filters.py); they
never assess what care someone needs, and the first screen says so.

Answering "yes" or "not sure" to "Is someone in danger right now?" leads to the crisis lines
of the visitor's country (chosen on that screen, else guessed from Accept-Language, as the
crisis strip does). After the seventh question the visitor lands on /providers/ with the
filters and ``from=choose``, which the FilterSet ignores and the results page reads to show
what the answers chose (providers/templatetags/choose.py); ``answers_from_search`` reads the
answers back from those filters for "change your answers".

Anything unknown or tampered with in the address is ignored: an answer that is not one of a
question's values counts as unanswered, a step out of range starts over.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from providers.caching import cached_page
from providers.models import CrisisLine
from providers.models.fields import COUNTRY_CODES
from providers.search.filters import MAX_RADIUS_KM, alphabetical
from providers.visitor import language_region

# Set on the results page's address by the last step; the FilterSet has no such filter, so it is ignored there.
FROM_PARAMETER = ("from", "choose")

# Medications for opioid use disorder (naloxone, for overdoses, is not one).
MAT_MEDICATIONS = ("methadone", "buprenorphine", "naltrexone", "extended-release-naltrexone")

# What a visitor may bring from a search, kept through the steps and handed back to it.
PLACE_PARAMETERS = ("country", "near", "radius")


@dataclass(frozen=True)
class Answer:
    value: str
    label: str
    filters: tuple[tuple[str, str], ...] = ()
    # The language the label is written in, where it is not the page's (a language's own name).
    lang: str = ""


@dataclass(frozen=True)
class Question:
    key: str
    title: str
    hint: str
    answers: tuple[Answer, ...]

    def answer(self, value):
        return next((answer for answer in self.answers if answer.value == value), None)


SKIP = Answer("skip", _("Not sure / skip"))

QUESTIONS = (
    Question(
        "danger",
        _("Is someone in danger right now?"),
        _("For example: someone may hurt themselves or others, has taken too much, or cannot be woken."),
        (Answer("yes", _("Yes")), Answer("no", _("No")), Answer("unsure", _("I am not sure"))),
    ),
    Question(
        "who",
        _("Who needs help?"),
        _(
            "Choose the answer that fits best, even if it is you. "
            "Some answers look for places that welcome those people."
        ),
        (
            Answer("me", _("Me")),
            Answer("other", _("Someone else")),
            Answer("teen", _("A teenager (under 18)"), (("population", "adolescents"),)),
            Answer(
                "pregnant", _("Someone who is pregnant or has just had a baby"), (("population", "pregnant-women"),)
            ),
            Answer(
                "veteran",
                _("A veteran or member of the armed forces"),
                (("population", "veterans"), ("population", "active-duty-military")),
            ),
            Answer("older", _("An older person"), (("population", "seniors"),)),
            SKIP,
        ),
    ),
    Question(
        "medicine",
        _("Should the place offer medication?"),
        _(
            "Methadone, buprenorphine and naltrexone ease withdrawal and cravings for opioids such as heroin, "
            "fentanyl or strong painkillers. Naltrexone also helps with alcohol."
        ),
        (
            Answer("methadone", _("Methadone"), (("modality", "mat"), ("medication", "methadone"))),
            Answer("buprenorphine", _("Buprenorphine"), (("modality", "mat"), ("medication", "buprenorphine"))),
            Answer(
                "naltrexone",
                _("Naltrexone (tablet or monthly injection)"),
                (("modality", "mat"), ("medication", "naltrexone"), ("medication", "extended-release-naltrexone")),
            ),
            Answer("any", _("Yes, but I do not know which"), (("modality", "mat"),)),
            Answer("no", _("No medication")),
            SKIP,
        ),
    ),
    Question(
        "home",
        _("Is living at home during treatment possible?"),
        _("Some places are visited during the day; others are places to stay, day and night, for a while."),
        (
            Answer("yes", _("Yes: living at home, visiting during the day"), (("setting", "outpatient"),)),
            Answer("no", _("No: staying at the place day and night"), (("setting", "inpatient"),)),
            Answer("either", _("Either is fine")),
            SKIP,
        ),
    ),
    Question(
        "pay",
        _("How would treatment be paid for?"),
        _("Places list what they accept; it is always worth calling to check."),
        (
            Answer("free", _("It needs to be free"), (("payment", "free"),)),
            Answer(
                "public", _("Public health insurance or a government programme"), (("payment", "public-insurance"),)
            ),
            Answer("private", _("Private health insurance"), (("payment", "private-insurance"),)),
            Answer("sliding", _("A lower price based on income"), (("payment", "sliding-scale"),)),
            Answer("self", _("Paying directly, in cash or by card"), (("payment", "self-pay"),)),
            SKIP,
        ),
    ),
    Question(
        "speaks",
        _("Which language should the staff speak?"),
        _("Many places list the languages their staff speak."),
        (
            *(Answer(code, name, (("language", code),), lang=code) for code, name in settings.LANGUAGES),
            Answer("any", _("Any language")),
            SKIP,
        ),
    ),
    Question(
        "approach",
        _("Does faith-based or holistic care matter?"),
        _("Holistic care adds things like mindfulness, exercise or nutrition to treatment."),
        (
            Answer("faith", _("Yes, a faith-based programme"), (("modality", "faith-based"),)),
            Answer("holistic", _("Yes, holistic care"), (("modality", "holistic"),)),
            Answer("neither", _("It does not matter")),
            SKIP,
        ),
    ),
)
QUESTION_KEYS = tuple(question.key for question in QUESTIONS)
# Answers are carried from the second question on; whether someone is in danger never leaves its screen.
CARRIED = QUESTION_KEYS[1:]


def kept_answers(query) -> dict[str, str]:
    """The valid answers and place in a query string ({parameter: value}); anything else is dropped."""
    kept = {}
    for question in QUESTIONS:
        value = query.get(question.key, "")
        if question.answer(value) is not None:
            kept[question.key] = value
    country = query.get("country", "").strip().upper()
    if country in COUNTRY_CODES:
        kept["country"] = country
    near = " ".join(query.get("near", "").split())[:100]
    if near:
        kept["near"] = near
        try:
            radius = float(query.get("radius", ""))
        except ValueError:
            radius = 0
        if 1 <= radius <= MAX_RADIUS_KM:
            kept["radius"] = f"{radius:g}"
    return kept


def search_filters(answers: dict[str, str]) -> list[tuple[str, str]]:
    """The search parameters the answers give, in the questions' order, each pair once.

    Several values of one filter mean "any of them" (``modality=mat&modality=holistic`` finds
    places offering either), so medication and a faith-based or holistic approach cannot both be
    asked through ``modality``: the medication then goes by its names alone, which every
    filter combines with "and".
    """
    pairs = []
    for question in QUESTIONS[1:]:
        answer = question.answer(answers.get(question.key, ""))
        pairs += answer.filters if answer else ()
    modalities = [value for name, value in pairs if name == "modality"]
    if "mat" in modalities and len(modalities) > 1:
        pairs.remove(("modality", "mat"))
        if not any(name == "medication" for name, _value in pairs):
            pairs += [("medication", medication) for medication in MAT_MEDICATIONS]
    pairs += [(name, answers[name]) for name in PLACE_PARAMETERS if answers.get(name)]
    return list(dict.fromkeys(pairs))


def answers_from_search(query) -> dict[str, str]:
    """The answers that would give a search's filters, for "change your answers" (the inverse of search_filters).

    Answers that set no filter ("me", "either", "skip") cannot be told apart, and come back unanswered.
    """
    given = {(name, value) for name in query for value in query.getlist(name)}
    medications = {value for name, value in given if name == "medication"} & set(MAT_MEDICATIONS)
    if medications:
        given.add(("modality", "mat"))
    answers = {}
    for question in QUESTIONS[1:]:
        matching = [answer for answer in question.answers if answer.filters and set(answer.filters) <= given]
        if question.key == "medicine" and medications == set(MAT_MEDICATIONS):
            matching = [question.answer("any")]
        if matching:
            answers[question.key] = max(matching, key=lambda answer: len(answer.filters)).value
    answers.update({name: value for name, value in kept_answers(query).items() if name in PLACE_PARAMETERS})
    return answers


def choose_url(step, answers, *, keys=CARRIED + PLACE_PARAMETERS) -> str:
    """The address of a step with the answers kept."""
    pairs = [("step", step), *((key, answers[key]) for key in keys if answers.get(key))]
    return f"{reverse('choose')}?{urlencode(pairs)}"


def _step(query) -> int:
    try:
        step = int(query.get("step", "1"))
    except ValueError:
        return 1
    return step if 1 <= step <= len(QUESTIONS) + 1 else 1


@cached_page
def choose(request):
    answers = kept_answers(request.GET)
    step = _step(request.GET)
    if step == len(QUESTIONS) + 1:
        return redirect(f"{reverse('providers:list')}?{urlencode([*search_filters(answers), FROM_PARAMETER])}")
    if step == 2 and answers.get("danger") in ("yes", "unsure"):
        return _crisis_lines(request, answers)
    question = QUESTIONS[step - 1]
    chosen = answers.get(question.key) or (get_language() if question.key == "speaks" else "")
    hidden = [(key, answers[key]) for key in CARRIED + PLACE_PARAMETERS if answers.get(key) and key != question.key]
    context = {
        "question": question,
        "number": step,
        "total": len(QUESTIONS),
        "chosen": chosen,
        "hidden": [("step", step + 1), *hidden],
        "back_url": choose_url(step - 1, answers) if step > 1 else reverse("home"),
    }
    request.crisis_country = answers.get("country", "")
    return render(request, "providers/choose.html", context)


def _crisis_lines(request, answers):
    """The crisis lines of the chosen country, else of the visitor's language region, with a way to pick another."""
    country = answers.get("country", "")
    if not country:
        # Guessed from the header, as the crisis strip does: a stored page is kept per region.
        request.varies_on_accept_language = True
    guessed = country or language_region(request.headers.get("Accept-Language", ""))
    lines = CrisisLine.objects.for_country(guessed)
    shown = lines[0].country.code if lines else ""
    codes = [code for code in CrisisLine.objects.by_country() if code]
    request.crisis_country = shown
    carried = [(key, answers[key]) for key in CARRIED + PLACE_PARAMETERS if key in answers]
    context = {
        "lines": lines,
        "country": shown,
        "country_name": countries.name(shown) if shown else "",
        "countries": sorted(((code, countries.name(code)) for code in codes), key=lambda pair: alphabetical(pair[1])),
        "unsure": answers.get("danger") == "unsure",
        # Picking a country shows its lines; going on carries it to the search, as the person chose it.
        "country_hidden": [("step", 2), ("danger", answers["danger"]), *(p for p in carried if p[0] != "country")],
        "continue_hidden": [("step", 2), *carried],
        "back_url": choose_url(1, answers),
    }
    return render(request, "providers/choose_crisis.html", context)
