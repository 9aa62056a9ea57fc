"""Every page shows where to call in a crisis: the lines of the country the page is about."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError

from providers.models import CrisisLine
from providers.visitor import language_region
from tests.paths import FIXTURES

pytestmark = pytest.mark.django_db

FIXTURE = FIXTURES / "crisis_lines.json"


def shipped():
    return [entry["fields"] for entry in json.loads(FIXTURE.read_text(encoding="utf-8"))]


def strip(response):
    """The crisis strip at the top of a page."""
    text = response.text
    start = text.index('class="emergency-note')
    return text[start : text.index("</p>", start)]


# The shipped lines


def test_the_fixture_covers_at_least_thirty_countries():
    assert len({line["country"] for line in shipped() if line["country"]}) >= 30


def test_every_shipped_line_has_a_source_and_claims_no_check_nobody_made():
    """The shipped numbers were written from well-known sources, not yet compared with them by a curator."""
    for line in shipped():
        assert line["source_url"].startswith("https://"), line["name"]
        assert line["checked_on"] is None, line["name"]


def test_the_list_says_which_lines_a_curator_has_checked(client):
    line = CrisisLine.objects.get(country="US", phone="988")
    line.checked_on = datetime.date(2026, 11, 24)
    line.save()
    page = client.get("/crisis-lines/").content.decode()
    assert '<time datetime="2026-11-24">November 2026</time>' in page
    assert "not yet checked against it" in page


def test_every_countrys_line_has_a_phone():
    assert all(line["phone"] for line in shipped() if line["country"])


def test_the_migration_loads_every_shipped_line():
    assert CrisisLine.objects.count() == len(shipped())


def test_every_shipped_line_is_valid():
    for line in CrisisLine.objects.all():
        line.full_clean()


def test_there_is_an_international_fallback():
    assert CrisisLine.objects.filter(country="").exists()


# Phone numbers


def test_a_short_code_is_dialled_as_it_is():
    assert CrisisLine(country="US", phone="988").tel_href == "tel:988"
    assert CrisisLine(country="GB", phone="116 123").tel_href == "tel:116123"


def test_a_full_number_is_dialled_in_international_form():
    assert CrisisLine(country="US", phone="1-800-662-4357").tel_href == "tel:+18006624357"
    assert CrisisLine(country="GB", phone="0300 123 6600").tel_href == "tel:+443001236600"


def test_a_full_number_must_be_valid_for_its_country():
    line = CrisisLine(
        country="GB",
        kind="crisis",
        name="Wrong",
        phone="0300 123 66001",
        source_url="https://example.org/",
        checked_on="2026-11-01",
    )

    with pytest.raises(ValidationError):
        line.full_clean()


def test_a_countrys_line_needs_a_phone():
    line = CrisisLine(
        country="KE", kind="crisis", name="Silent", source_url="https://example.org/", checked_on="2026-11-01"
    )

    with pytest.raises(ValidationError, match="needs a phone number"):
        line.full_clean()


# Choosing the lines


def test_a_country_gets_its_own_lines_in_order():
    names = [line.name for line in CrisisLine.objects.for_country("US")]

    assert names == ["Emergency", "988 Suicide & Crisis Lifeline", "SAMHSA National Helpline"]


def test_a_country_without_lines_gets_the_international_fallback():
    assert CrisisLine.objects.for_country("AQ") == CrisisLine.objects.for_country("")
    assert all(not line.country for line in CrisisLine.objects.for_country("AQ"))


def test_the_first_country_with_lines_wins():
    assert CrisisLine.objects.for_country("AQ", "BR")[0].phone == "192"


def test_the_language_region_is_a_second_choice():
    assert language_region("pt-BR,pt;q=0.9,en;q=0.8") == "BR"
    assert language_region("en;q=0.5,es-MX;q=0.8,fr-FR;q=0.7") == "MX"
    assert language_region("en, pt-br;q=0") == ""
    assert (language_region("en"), language_region(""), language_region("es-MX;q=x")) == ("", "", "")


def test_an_edit_shows_at_once():
    CrisisLine.objects.for_country("KE")
    CrisisLine.objects.filter(country="KE", phone="1192").get().delete()

    assert "1192" not in [line.phone for line in CrisisLine.objects.for_country("KE")]


def test_lines_are_read_from_the_cache(django_assert_num_queries):
    CrisisLine.objects.for_country("US")

    with django_assert_num_queries(0):
        CrisisLine.objects.for_country("GB")


# On every page


def test_the_home_page_shows_the_international_fallback(client):
    text = strip(client.get("/"))

    assert "Call your local emergency number" in text
    assert 'href="https://findahelpline.com/"' in text


def test_a_search_in_one_country_shows_its_lines(client):
    text = strip(client.get("/providers/", {"country": "GB"}))

    assert 'Call <a class="text-nowrap" dir="ltr" href="tel:999">999</a>' in text
    assert 'href="tel:116123">116 123</a>' in text
    assert 'href="tel:+443001236600">0300 123 6600</a>' in text


def test_a_search_in_several_countries_shows_the_fallback(client):
    assert "Call your local emergency number" in strip(client.get("/providers/", {"country": ["GB", "US"]}))


def test_a_search_near_a_place_shows_its_countrys_lines(client):
    assert 'href="tel:1192"' in strip(client.get("/providers/", {"near": "-1.28,36.82"}))


def test_a_providers_page_shows_its_countrys_lines(client, make_provider):
    provider = make_provider(country="KE")

    text = strip(client.get(provider.get_absolute_url()))

    assert 'Call <a class="text-nowrap" dir="ltr" href="tel:999">999</a>' in text
    assert 'href="tel:1192">1192</a>' in text


def test_every_page_links_to_all_crisis_lines(client):
    assert 'href="/crisis-lines/"' in strip(client.get("/about/"))


@pytest.mark.parametrize("page", ["/", "/pt/", "/es/about/"])
def test_the_visitors_language_region_is_used_when_the_page_has_no_country(client, page):
    text = strip(client.get(page, headers={"accept-language": "pt-BR,pt;q=0.9"}))

    assert 'href="tel:188">188</a>' in text


# The page of all lines


def test_the_page_lists_every_country_with_its_sources(client):
    response = client.get("/crisis-lines/")

    assert response.status_code == 200
    assert response.text.count('<h2 class="h4" id=') == len({line["country"] for line in shipped() if line["country"]})
    assert '<h2 class="h4" id="KE">Kenya</h2>' in response.text
    assert '<a href="https://988lifeline.org/">source</a>' in response.text


# Curators


def test_a_curator_can_correct_a_number(curator_client):
    line = CrisisLine.objects.get(country="KE", phone="1192")
    url = f"/admin/providers/crisisline/{line.pk}/change/"
    form = {
        "country": "KE",
        "kind": "addiction",
        "name": line.name,
        "phone": "1192",
        "hours": "24/7",
        "notes": "",
        "source_url": "https://nacada.go.ke/",
        "checked_on": "2026-12-01",
        "order": "20",
    }

    response = curator_client.post(url, form)

    assert response.status_code == 302
    assert CrisisLine.objects.for_country("KE")[1].hours == "24/7"


def test_a_curator_cannot_delete_a_line(curator_client):
    line = CrisisLine.objects.get(country="KE", phone="1192")

    assert curator_client.post(f"/admin/providers/crisisline/{line.pk}/delete/", {"post": "yes"}).status_code == 403
