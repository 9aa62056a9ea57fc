"""Help me choose: plain questions, one per screen, that end on a filtered search and store nothing."""

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import translation

from providers.choose import QUESTIONS, answers_from_search
from providers.models import CrisisLine, Language
from tests.browser.helpers import LANGUAGE_PREFIXES
from tests.views.test_languages import OTHER_LANGUAGES, translated_english, visible_text

pytestmark = pytest.mark.django_db

ALL_SKIPPED = "who=skip&medicine=skip&home=skip&pay=skip&speaks=skip&approach=skip"


def results_of(client, query, prefix=""):
    """Where the last step sends a visitor: (path, [(parameter, value)])."""
    response = client.get(f"{prefix}/choose/?step=8&{query}")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    return location.path, parse_qsl(location.query)


def filters_of(client, query):
    path, pairs = results_of(client, query)
    assert path == "/providers/"
    assert pairs[-1] == ("from", "choose")
    return pairs[:-1]


def in_language(code, text):
    with translation.override(code):
        return translation.gettext(text)


# The questions


def test_the_first_screen_asks_about_danger_and_says_it_assesses_nothing(client):
    response = client.get("/choose/")

    assert response.status_code == 200
    assert "Question 1 of 7" in response.text
    assert "Is someone in danger right now?" in response.text
    assert "This is not a medical assessment" in response.text
    assert 'name="danger"' in response.text
    assert '<input type="hidden" name="step" value="2">' in response.text


@pytest.mark.parametrize("number", range(2, 8))
def test_each_step_asks_one_question_with_a_skip_answer_and_a_back_link(client, number):
    question = QUESTIONS[number - 1]
    response = client.get(f"/choose/?step={number}&who=teen")

    assert response.status_code == 200
    assert f"Question {number} of 7" in response.text
    assert str(question.title) in response.text
    assert len(re.findall(r'type="radio" name="([a-z]+)"', response.text)) == len(question.answers)
    assert set(re.findall(r'type="radio" name="([a-z]+)"', response.text)) == {question.key}
    assert 'value="skip"' in response.text
    back = f'href="/choose/?step={number - 1}&amp;who=teen"'
    assert back in response.text
    assert f'<input type="hidden" name="step" value="{number + 1}">' in response.text
    if question.key != "who":
        assert '<input type="hidden" name="who" value="teen">' in response.text


def test_an_earlier_answer_is_chosen_again_when_going_back(client):
    response = client.get("/choose/?step=3&medicine=buprenorphine")

    assert re.search(r'value="buprenorphine" checked', response.text)


def test_the_language_question_starts_on_the_pages_language(client):
    assert re.search(r'name="speaks" value="fr" checked', client.get("/fr/choose/?step=6").text)
    assert re.search(r'name="speaks" value="en" checked', client.get("/choose/?step=6").text)
    assert re.search(r'name="speaks" value="any" checked', client.get("/fr/choose/?step=6&speaks=any").text)


# Where the answers lead


@pytest.mark.parametrize(
    ("answer", "filters"),
    [
        ("who=me", []),
        ("who=other", []),
        ("who=teen", [("population", "adolescents")]),
        ("who=pregnant", [("population", "pregnant-women")]),
        ("who=veteran", [("population", "veterans"), ("population", "active-duty-military")]),
        ("who=older", [("population", "seniors")]),
        ("medicine=methadone", [("modality", "mat"), ("medication", "methadone")]),
        ("medicine=buprenorphine", [("modality", "mat"), ("medication", "buprenorphine")]),
        (
            "medicine=naltrexone",
            [("modality", "mat"), ("medication", "naltrexone"), ("medication", "extended-release-naltrexone")],
        ),
        ("medicine=any", [("modality", "mat")]),
        ("medicine=no", []),
        ("home=yes", [("setting", "outpatient")]),
        ("home=no", [("setting", "inpatient")]),
        ("home=either", []),
        ("pay=free", [("payment", "free")]),
        ("pay=public", [("payment", "public-insurance")]),
        ("pay=private", [("payment", "private-insurance")]),
        ("pay=sliding", [("payment", "sliding-scale")]),
        ("pay=self", [("payment", "self-pay")]),
        ("speaks=es", [("language", "es")]),
        ("speaks=ar", [("language", "ar")]),
        ("speaks=any", []),
        ("approach=faith", [("modality", "faith-based")]),
        ("approach=holistic", [("modality", "holistic")]),
        ("approach=neither", []),
    ],
)
def test_each_answer_gives_its_filters(client, answer, filters):
    assert filters_of(client, answer) == filters


def test_every_slug_an_answer_gives_is_a_term_the_search_knows(client):
    from providers.search.filters import ProviderFilter

    term_ids = ProviderFilter({}).term_ids
    for question in QUESTIONS:
        for answer in question.answers:
            for name, value in answer.filters:
                # Languages are offered only where a listing speaks them, but every shipped one is a term.
                known = Language.objects.filter(slug=value).exists() if name == "language" else value in term_ids[name]
                assert known, (question.key, answer.value)


def test_skipping_every_question_adds_no_filter(client):
    assert filters_of(client, ALL_SKIPPED) == []
    assert filters_of(client, "") == []


def test_all_answers_together_give_all_their_filters(client):
    assert filters_of(client, "who=teen&medicine=any&home=yes&pay=free&speaks=es&approach=skip") == [
        ("population", "adolescents"),
        ("modality", "mat"),
        ("setting", "outpatient"),
        ("payment", "free"),
        ("language", "es"),
    ]


def test_medication_and_a_faith_based_approach_are_both_required_not_either(client):
    # modality=mat&modality=faith-based would find places offering either: the medication goes by its names.
    assert filters_of(client, "medicine=methadone&approach=faith") == [
        ("medication", "methadone"),
        ("modality", "faith-based"),
    ]
    assert filters_of(client, "medicine=any&approach=holistic") == [
        ("modality", "holistic"),
        ("medication", "methadone"),
        ("medication", "buprenorphine"),
        ("medication", "naltrexone"),
        ("medication", "extended-release-naltrexone"),
    ]


def test_a_place_brought_from_a_search_is_kept_to_the_end(client):
    response = client.get("/choose/?step=4&country=ke&near=Mombasa&radius=50")
    assert '<input type="hidden" name="country" value="KE">' in response.text
    assert '<input type="hidden" name="near" value="Mombasa">' in response.text

    assert filters_of(client, "home=yes&country=KE&near=Mombasa&radius=50") == [
        ("setting", "outpatient"),
        ("country", "KE"),
        ("near", "Mombasa"),
        ("radius", "50"),
    ]


def test_the_results_are_in_the_language_of_the_questions(client):
    assert results_of(client, "speaks=ar", prefix="/ar")[0] == "/ar/providers/"


# In danger


def test_danger_yes_leads_to_the_crisis_lines_of_the_visitors_country(client):
    response = client.get("/choose/?step=2&danger=yes", headers={"accept-language": "pt-BR,pt;q=0.9"})

    assert response.status_code == 200
    assert "Get help now" in response.text
    assert "Crisis lines in Brazil" in response.text
    for line in CrisisLine.objects.for_country("BR"):
        assert line.tel_href in response.text
    assert '<option value="BR" selected>' in response.text
    assert "Accept-Language" in response["Vary"]
    assert "Question" not in visible_text(response)


def test_another_country_can_be_chosen_on_the_crisis_screen(client):
    response = client.get("/choose/?step=2&danger=yes&country=KE", headers={"accept-language": "pt-BR"})

    assert "Crisis lines in Kenya" in response.text
    for line in CrisisLine.objects.for_country("KE"):
        assert line.tel_href in response.text
    assert '<option value="KE" selected>' in response.text
    # Going on carries the country chosen to the search.
    assert '<input type="hidden" name="country" value="KE">' in response.text


def test_the_crisis_screen_is_stored_per_region_not_shown_to_another(client):
    brazil = client.get("/choose/?step=2&danger=yes", headers={"accept-language": "pt-BR"})
    kenya = client.get("/choose/?step=2&danger=yes", headers={"accept-language": "sw-KE"})

    assert "Crisis lines in Brazil" in brazil.text
    assert "Crisis lines in Kenya" in kenya.text


def test_without_a_region_the_crisis_screen_shows_the_international_lines(client):
    response = client.get("/choose/?step=2&danger=yes")

    assert "Crisis lines anywhere" in response.text
    assert '<option value="" selected>' in response.text


def test_not_sure_about_danger_leads_to_the_crisis_lines_too(client):
    response = client.get("/choose/?step=2&danger=unsure")

    assert "If you are not sure, call" in response.text
    assert "Continue with the questions" in response.text


def test_no_danger_goes_on_to_the_second_question(client):
    response = client.get("/choose/?step=2&danger=no")

    assert "Question 2 of 7" in response.text
    assert 'name="danger"' not in response.text


# Languages


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_step_is_translated(client, code):
    english = translated_english(code, 2)
    prefix = LANGUAGE_PREFIXES[code]
    steps = [f"/choose/?step={number}&who=teen" for number in range(1, 8)]
    steps += ["/choose/?step=2&danger=unsure&country=KE", "/choose/?step=2&danger=yes"]
    for step in steps:
        response = client.get(prefix + step)
        assert response.status_code == 200, step
        assert f'<html lang="{code}"' in response.text
        text = visible_text(response)
        assert [message for message in english if message in text] == [], step
    for question in QUESTIONS:
        with translation.override("en"):
            english_title = str(question.title)
        assert in_language(code, english_title) != english_title
        step = client.get(f"{prefix}/choose/?step={QUESTIONS.index(question) + 1}")
        assert in_language(code, english_title) in unescape(step.text)


# Nothing stored, nothing broken


def test_no_step_sets_a_cookie(client):
    urls = [f"/choose/?step={number}" for number in range(1, 8)]
    urls += ["/choose/?step=2&danger=yes", "/choose/?step=8&who=teen", "/es/choose/", "/providers/?from=choose"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert not response.cookies, url
        assert not response.has_header("Set-Cookie"), url


@pytest.mark.parametrize(
    "query",
    [
        "step=abc",
        "step=-1",
        "step=99",
        "step=1e9",
        "step=3&who=<script>alert(1)</script>",
        "step=3&medicine=drop+table",
        "step=2&danger=yes&country=ZZ",
        "step=2&danger=yes&country=%00",
        "step=5&radius=1e999&near=" + "x" * 500,
        "step=4&who=teen&who=older&speaks=xx",
        "step=8&who=nobody&pay=gold&speaks=zz&approach=<b>&country=XX&radius=nan",
    ],
)
def test_bad_or_tampered_answers_are_ignored(client, query):
    response = client.get(f"/choose/?{query}")

    assert response.status_code in (200, 302)
    # The page's own content: the language links in <head> repeat the address as it came, escaped.
    main = response.text.partition("<main")[2]
    for bad in ("<script>", "drop table", "ZZ", "gold", "<b>", "nobody"):
        assert bad not in main
    if response.status_code == 302:
        assert response["Location"] == "/providers/?from=choose"


# The results it leads to


def test_the_results_show_what_the_answers_chose(client, make_provider):
    make_provider(
        name="Teen Methadone Clinic", modalities=["mat"], medications=["methadone"], populations=["adolescents"]
    )
    make_provider(name="Other Clinic", modalities=["counseling"])
    path, pairs = results_of(client, "who=teen&medicine=methadone&home=either&pay=skip&speaks=any&approach=neither")

    response = client.get(path, pairs)

    assert response.status_code == 200
    text = visible_text(response)
    assert "Showing places that match your answers: Who is served: Adolescents" in text
    assert "Medication: Methadone" in text
    assert "Teen Methadone Clinic" in text and "Other Clinic" not in text
    assert "Your answers only chose these filters" in text
    change = re.search(r'class="choose-change" href="([^"]+)"', response.text)[1].replace("&amp;", "&")
    assert change == "/choose/?step=2&who=teen&medicine=methadone"
    assert re.search(r'value="teen" checked', client.get(change).text)


def test_results_without_the_questions_link_to_them_and_show_no_summary(client):
    response = client.get("/providers/?country=KE&near=Mombasa")

    assert "choose-summary" not in response.text
    assert 'href="/choose/?step=1&amp;country=KE&amp;near=Mombasa"' in response.text


def test_skipped_questions_say_no_filter_was_added(client):
    text = visible_text(client.get("/providers/?from=choose"))

    assert "You skipped every question, so no filter was added." in text


def test_from_choose_is_not_a_filter(client, make_provider):
    make_provider(name="Methadone Clinic", modalities=["mat"])
    make_provider(name="Counselling Centre", modalities=["counseling"])

    plain = client.get("/providers/?modality=mat")
    chosen = client.get("/providers/?modality=mat&from=choose")
    assert chosen.context["filter"].is_valid()
    assert chosen.context["filter"].active_filter_count == plain.context["filter"].active_filter_count == 1
    assert list(chosen.context["page_obj"]) == list(plain.context["page_obj"])

    plain_csv = b"".join(client.get("/providers/export.csv?modality=mat").streaming_content)
    chosen_csv = b"".join(client.get("/providers/export.csv?modality=mat&from=choose").streaming_content)
    assert chosen_csv == plain_csv

    plain_api = client.get("/api/v1/providers/?modality=mat").json()
    chosen_api = client.get("/api/v1/providers/?modality=mat&from=choose").json()
    assert chosen_api == plain_api and len(plain_api["results"]) == 1


def test_the_cached_results_page_keeps_the_summary_to_its_own_address(client):
    client.get("/providers/?modality=mat")
    client.get("/providers/?modality=mat&from=choose")

    assert "choose-summary" not in client.get("/providers/?modality=mat").text
    assert "choose-summary" in client.get("/providers/?modality=mat&from=choose").text


@pytest.mark.parametrize("code", ["en", *OTHER_LANGUAGES])
def test_the_home_page_links_to_the_questions(client, code):
    prefix = LANGUAGE_PREFIXES[code]

    assert f'href="{prefix}/choose/"' in client.get(prefix + "/").text


def test_answers_read_back_from_a_search():
    from django.http import QueryDict

    query = QueryDict(
        "population=veterans&population=active-duty-military&modality=holistic&medication=methadone"
        "&medication=buprenorphine&medication=naltrexone&medication=extended-release-naltrexone"
        "&setting=inpatient&payment=sliding-scale&language=pt&country=BR&from=choose"
    )

    assert answers_from_search(query) == {
        "who": "veteran",
        "medicine": "any",
        "home": "no",
        "pay": "sliding",
        "speaks": "pt",
        "approach": "holistic",
        "country": "BR",
    }
