"""Public pages are stored for anonymous visitors and dropped as soon as anything they show changes."""

import random

import pytest
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test.utils import CaptureQueriesContext

from providers.caching import cached_page
from providers.curation.history import update_with_history
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import Record
from providers.models import CrisisLine, Modality, OpeningInterval, Organization, Provider
from providers.models.history import ProviderHistoryExtras

pytestmark = pytest.mark.django_db

PAGES = ["/", "/about/", "/crisis-lines/", "/providers/", "/providers/?modality=mat", "/es/providers/"]


def queries_for(client, url, **kwargs):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(queries), response


def rendered(response):
    """Whether the view rendered the page (a stored page renders no template)."""
    return bool(response.templates)


@pytest.fixture
def clinic(make_provider):
    return make_provider(name="Harbour Clinic", city="Mombasa", country="KE", modalities=["mat"])


@pytest.mark.parametrize("url", PAGES)
def test_a_page_seen_again_is_served_without_the_database(client, clinic, url):
    _, first = queries_for(client, url)
    again, response = queries_for(client, url)

    assert rendered(first)
    assert not rendered(response)
    assert again == 0
    assert response.headers["Content-Language"] == ("es" if url.startswith("/es/") else "en")
    assert "Content-Security-Policy" in response.headers
    assert "ETag" in response.headers


def test_a_provider_page_seen_again_is_served_without_the_database(client, clinic):
    queries_for(client, clinic.get_absolute_url())

    again, response = queries_for(client, clinic.get_absolute_url())

    assert again == 0
    assert "Harbour Clinic" in response.text


@pytest.mark.parametrize("url", ["/providers/?list=harbour-clinic-mombasa,other", "{page}?list=a,b"])
def test_a_page_carrying_someones_saved_list_is_never_stored(client, clinic, url):
    url = url.format(page=clinic.get_absolute_url())
    client.get(url)

    assert rendered(client.get(url))


def test_a_stored_page_is_the_same_page(client, clinic):
    first = client.get("/providers/?modality=mat").content

    assert client.get("/providers/?modality=mat").content == first


def test_each_language_has_its_own_stored_page(client, clinic):
    client.get("/providers/")

    assert 'lang="fr"' in client.get("/fr/providers/").text.split(">", 2)[1]
    assert "Harbour Clinic" in client.get("/fr/providers/").text


def test_a_page_whose_crisis_lines_follow_the_browser_is_stored_per_region(client):
    brazil = {"accept-language": "pt-BR,pt;q=0.9"}
    client.get("/about/", headers=brazil)

    elsewhere = client.get("/about/", headers={"accept-language": "en-GB"})
    count, again = queries_for(client, "/about/", headers=brazil)

    assert rendered(elsewhere)
    assert 'href="tel:188">188</a>' not in elsewhere.text
    assert 'href="tel:188">188</a>' in again.text
    assert not rendered(again)
    assert count == 0
    assert "Accept-Language" in again.headers["Vary"]


# Any change drops every stored page


def test_editing_a_listing_shows_at_once(client, clinic):
    client.get(clinic.get_absolute_url())
    client.get("/providers/")

    clinic.name = "Harbour Clinic and Outreach"
    clinic.save()

    assert "Harbour Clinic and Outreach" in client.get(clinic.get_absolute_url()).text
    assert "Harbour Clinic and Outreach" in client.get("/providers/").text


def test_a_page_stored_before_the_change_commits_is_dropped_when_it_commits(
    client, clinic, django_capture_on_commit_callbacks
):
    """A visitor arriving between the change and its commit reads the old rows; what they store must not last."""
    with django_capture_on_commit_callbacks(execute=True) as commit:
        clinic.name = "Harbour Clinic and Outreach"
        clinic.save()
        client.get(clinic.get_absolute_url())

    assert commit
    assert rendered(client.get(clinic.get_absolute_url()))


def test_unpublishing_a_listing_in_bulk_shows_at_once(client, clinic, curator):
    client.get("/providers/")

    update_with_history(
        Provider.objects.filter(pk=clinic.pk),
        user=curator,
        channel=ProviderHistoryExtras.Channel.ADMIN,
        reason="test",
        status=Provider.Status.ARCHIVED,
    )

    assert "Harbour Clinic" not in client.get("/providers/").text
    assert client.get(clinic.get_absolute_url()).status_code == 410


def test_changing_a_listings_terms_shows_at_once(client, clinic):
    client.get("/providers/?modality=counseling")

    clinic.modalities.add(Modality.objects.get(slug="counseling"))

    assert "Harbour Clinic" in client.get("/providers/?modality=counseling").text


def test_renaming_an_organisation_shows_at_once(client, clinic):
    clinic.organization = Organization.objects.create(name="Coast Health", slug="coast-health")
    clinic.save()
    client.get(clinic.get_absolute_url())

    organization = Organization.objects.get(slug="coast-health")
    organization.name = "Coast Health Trust"
    organization.save()

    assert "Coast Health Trust" in client.get(clinic.get_absolute_url()).text


def test_new_opening_hours_show_at_once(client, clinic):
    before = client.get(clinic.get_absolute_url()).text

    OpeningInterval.objects.create(provider=clinic, weekday=0, opens="08:00", closes="17:00")

    assert client.get(clinic.get_absolute_url()).text != before


def test_a_translated_term_name_shows_at_once(client, clinic):
    client.get("/es/providers/")

    term = Modality.objects.get(slug="mat")
    term.name_translations = {**term.name_translations, "es": "Tratamiento con medicamentos (prueba)"}
    term.save()

    assert "Tratamiento con medicamentos (prueba)" in client.get("/es/providers/").text


def test_a_changed_crisis_line_shows_at_once(client):
    client.get("/crisis-lines/")
    line = CrisisLine.objects.filter(country="KE").first()

    line.phone = "1199"
    line.save()

    assert 'href="tel:1199"' in client.get("/crisis-lines/").text


def test_an_import_shows_at_once(client):
    client.get("/providers/?q=lighthouse")
    record = Record(
        number=1,
        external_id="L-1",
        source="partner",
        values={"name": "Lighthouse Recovery", "country": "KE", "city": "Mombasa"},
        terms={},
    )

    report = import_records([record], ImportOptions(file_name="partner.csv", format="ours"))

    assert report.written
    assert "Lighthouse Recovery" in client.get("/providers/?q=lighthouse").text


# What is never stored or served stored


def test_a_curator_is_never_served_a_stored_page_nor_stores_one(client, curator_client, make_provider):
    draft = make_provider(name="Draft Clinic", status=Provider.Status.DRAFT)

    assert "Draft Clinic" in curator_client.get(draft.get_absolute_url()).text
    client.get("/providers/")
    curator_client.get("/providers/")
    again = curator_client.get("/providers/")
    curator_client.logout()

    assert rendered(again)
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_a_page_not_found_is_not_stored(client, clinic):
    client.get("/providers/no-such-clinic/")

    missing = client.get("/providers/no-such-clinic/")

    assert missing.status_code == 404
    assert rendered(missing)


def test_a_page_holding_a_form_token_is_not_stored(rf):
    rendered = []

    @cached_page
    def form_page(request):
        rendered.append(get_token(request))
        return HttpResponse("<form>")

    for _ in range(2):
        request = rf.get("/form/")
        request.LANGUAGE_CODE = "en"
        form_page(request)

    assert len(rendered) == 2


def test_a_page_setting_a_cookie_is_not_stored(rf):
    rendered = []

    @cached_page
    def page_with_cookie(request):
        rendered.append(request)
        response = HttpResponse("hello")
        response.set_cookie("seen", "1")
        return response

    for _ in range(2):
        request = rf.get("/hello/")
        request.LANGUAGE_CODE = "en"
        page_with_cookie(request)

    assert len(rendered) == 2


def test_the_page_cache_can_be_turned_off(client, clinic, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client.get("/providers/")

    assert rendered(client.get("/providers/"))


# Visitors from everywhere, in any order, get the page they would get without the cache

VISITORS = {
    "US": "en-US,en;q=0.9",
    "GB": "en-GB,en;q=0.9",
    "MX": "es-MX,es;q=0.9",
    "DE": "de-DE",
    "BR": "pt-BR,pt;q=0.9,en;q=0.8",
    "none": "",
}
# Regions interleaved: each arrives several times, before and after the others.
ARRIVALS = ["US", "GB", "GB", "GB", "MX", "MX", "US", "DE", "DE", "GB", "BR", "MX", "none", "DE", "none", "US", "BR"]


@pytest.fixture(params=["local memory", "redis"])
def page_cache_backend(request, settings):
    """The stored pages in each kind of cache the site runs with (Redis where one is running)."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    else:
        settings.REDIS_URL = ""
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return request.param


def uncached(client, settings, path, accept_language="", method="get"):
    """The page as the view renders it, with the cache off."""
    seconds, settings.PAGE_CACHE_SECONDS = settings.PAGE_CACHE_SECONDS, 0
    try:
        return getattr(client, method)(path, headers={"accept-language": accept_language})
    finally:
        settings.PAGE_CACHE_SECONDS = seconds


def same_page(response, expected):
    assert response.status_code == expected.status_code
    assert response.content == expected.content
    for header in ("Content-Type", "Content-Language", "Vary"):
        assert response.headers.get(header) == expected.headers.get(header), header


@pytest.fixture
def clinics(make_provider):
    return [
        make_provider(name="Harbour Clinic", city="Mombasa", country="KE", modalities=["mat"]),
        make_provider(name="Lakeside Recovery", city="Chicago", country="US", modalities=["mat"]),
    ]


@pytest.mark.parametrize(
    "path", ["/", "/providers/", "/providers/?modality=mat", "harbour", "/es/providers/", "/ar/", "/about/"]
)
def test_visitors_from_many_regions_in_turn_each_get_their_page(client, settings, page_cache_backend, clinics, path):
    path = clinics[0].get_absolute_url() if path == "harbour" else path
    expected = {region: uncached(client, settings, path, header) for region, header in VISITORS.items()}

    for arrival, region in enumerate(ARRIVALS):
        response = client.get(path, headers={"accept-language": VISITORS[region]})
        assert response.status_code == 200, (arrival, region)
        same_page(response, expected[region])


def test_the_reported_sequences_answer_200(client, page_cache_backend, clinics):
    sequence = [("/", "en-US,en;q=0.9"), ("/", "en-GB,en;q=0.9"), ("/", "en-GB,en;q=0.9"), ("/", "en-GB,en;q=0.9")]
    sequence += [("/", "es-MX,es;q=0.9")] * 2 + [("/providers/?modality=mat", "de-DE")] * 2

    statuses = [client.get(path, headers={"accept-language": header}).status_code for path, header in sequence]

    assert statuses == [200] * len(sequence)


COOKIES = [{}, {"csrftoken": "a" * 32}, {"sessionid": "not-a-session"}, {"seen-banner": "1"}]
PROPERTY_PATHS = ["/", "/providers/", "/providers/?modality=mat", "/providers/?country=KE", "/fr/", "/crisis-lines/"]


@pytest.mark.parametrize("seed", range(3))
def test_any_sequence_of_visitors_gets_what_the_uncached_site_gives(
    client, settings, page_cache_backend, clinics, seed
):
    """Random (path, language, cookie, method) visits compared with the same visit with the cache off."""
    draw = random.Random(seed)
    paths = [*PROPERTY_PATHS, clinics[0].get_absolute_url(), clinics[1].get_absolute_url()]
    expected = {}

    for _ in range(60):
        path, header = draw.choice(paths), draw.choice(list(VISITORS.values()))
        cookies, method = draw.choice(COOKIES), draw.choice(["get", "get", "get", "head"])
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies[name] = value
        visit = (path, header, tuple(cookies), method)
        if visit not in expected:
            expected[visit] = uncached(client, settings, path, header, method)

        response = getattr(client, method)(path, headers={"accept-language": header})

        same_page(response, expected[visit])
