"""The saved list, /list/?p=<slug>&p=<slug>: providers to call, print or share, carried in the address alone."""

import html
import re
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import OpeningInterval, Provider
from providers.saved_lists import MAX_PROVIDERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbour(make_provider):
    provider = make_provider(
        name="Harbour Clinic",
        street_address="12 Nkrumah Road",
        city="Mombasa",
        country="KE",
        phone="+254722123456",
        hotline_phone="+254800720000",
        time_zone="Africa/Nairobi",
        modalities=["mat"],
    )
    OpeningInterval.objects.create(provider=provider, weekday=0, opens="08:00", closes="17:00")
    return provider


@pytest.fixture
def lakeside(make_provider):
    return make_provider(name="Lakeside Centre", street_address="3 Oginga Street", city="Kisumu", country="KE")


def saved_list(client, *slugs, prefix=""):
    response = client.get(f"{prefix}/list/", [("p", slug) for slug in slugs])
    assert response.status_code == 200
    return response


def text_of(response):
    return html.unescape(response.content.decode())


def test_it_shows_each_provider_in_the_lists_order_with_its_name_linked(client, harbour, lakeside):
    page = text_of(saved_list(client, lakeside.slug, harbour.slug))

    assert page.index("Lakeside Centre") < page.index("Harbour Clinic")
    # Each name leads to the provider's page carrying the list, so its "Save" link can add to it.
    assert f'href="{harbour.get_absolute_url()}?list={lakeside.slug}%2C{harbour.slug}"' in page


def test_it_links_every_phone_number(client, harbour):
    page = text_of(saved_list(client, harbour.slug))

    assert 'href="tel:+254722123456"' in page
    assert 'href="tel:+254800720000"' in page
    assert 'Main: <bdi dir="ltr">0722 123456</bdi>' in page


def test_it_shows_the_address_and_opening_hours(client, harbour):
    page = text_of(saved_list(client, harbour.slug))

    assert "12 Nkrumah Road<br>Mombasa<br>Kenya" in page
    assert "Opening hours" in page
    assert re.search(r'<th scope="row">Monday( <span[^>]*>[^<]*</span>)?</th>\s*<td>08:00–17:00</td>', page)


def test_it_asks_the_database_once_per_kind_not_per_provider(client, make_provider):
    slugs = [make_provider(name=f"Clinic {number}", phone="+13346732143").slug for number in range(12)]
    saved_list(client, *slugs[:2])  # The site's own caches (crisis lines, vocabulary) are warm from here.

    with CaptureQueriesContext(connection) as two:
        saved_list(client, *slugs[:2])
    with CaptureQueriesContext(connection) as twelve:
        saved_list(client, *slugs)

    assert len(twelve) == len(two) <= 3


def test_unknown_and_unpublished_providers_are_left_out_with_a_note(client, harbour, make_provider):
    draft = make_provider(name="Draft Clinic", status=Provider.Status.DRAFT)

    page = text_of(saved_list(client, "no-such-provider", harbour.slug, draft.slug))

    assert "Harbour Clinic" in page
    assert "Draft Clinic" not in page
    assert "2 providers on this list are no longer listed and were left out." in page
    # The link shared holds only what is shown.
    assert f"/list/?p={harbour.slug}" in page and "no-such-provider" not in page.split("share-heading")[1]


def test_a_list_longer_than_the_limit_shows_the_first_ones_and_says_so(client, make_provider):
    slugs = [make_provider(name=f"Clinic {number}").slug for number in range(MAX_PROVIDERS + 2)]

    page = text_of(saved_list(client, *slugs))

    assert f"A list can hold at most {MAX_PROVIDERS} providers: only the first {MAX_PROVIDERS} are shown." in page
    assert page.count('data-remove="') == MAX_PROVIDERS
    assert f">Clinic {MAX_PROVIDERS - 1}<" in page
    assert f">Clinic {MAX_PROVIDERS}<" not in page


def test_a_slug_named_twice_is_listed_once(client, harbour):
    assert text_of(saved_list(client, harbour.slug, harbour.slug)).count('data-remove="') == 1


def test_it_sets_no_cookie(client, harbour):
    for response in (saved_list(client), saved_list(client, harbour.slug), saved_list(client, "no-such-provider")):
        assert not response.cookies
        assert not response.has_header("Set-Cookie")


def test_it_is_not_kept_in_the_page_cache_nor_indexed(client, harbour, settings):
    settings.PAGE_CACHE_SECONDS = 300
    saved_list(client, harbour.slug)
    Provider.objects.filter(pk=harbour.pk).update(name="Renamed Clinic")

    response = saved_list(client, harbour.slug)

    assert "Renamed Clinic" in text_of(response)
    assert response["X-Robots-Tag"] == "noindex"


def test_it_draws_a_qr_code_of_its_address_inline(client, harbour):
    page = text_of(saved_list(client, harbour.slug))

    svg = re.search(r"<svg [^>]*>.*?</svg>", page, re.S)[0]
    assert 'role="img"' in svg
    assert "<title>QR code of the link to this list</title>" in svg
    # Inline: no image to fetch, and nothing the Content-Security-Policy refuses (no style attribute).
    assert "<img" not in page.split("share-heading")[1]
    assert "style=" not in svg


def test_sms_and_mailto_links_carry_the_lists_address(client, harbour, lakeside):
    page = text_of(saved_list(client, harbour.slug, lakeside.slug, prefix="/es"))

    address = f"http://testserver/es/list/?p={harbour.slug}&p={lakeside.slug}"
    assert f'href="sms:?&body={quote(address, safe="")}"' in page
    assert f'href="mailto:?body={quote(address, safe="")}"' in page
    assert f'value="{address}"' in page


def test_remove_links_lead_to_the_list_without_that_provider(client, harbour, lakeside):
    page = text_of(saved_list(client, harbour.slug, lakeside.slug))

    assert re.search(rf'href="/list/\?p={lakeside.slug}"[^>]* data-remove="{harbour.slug}"', page)
    assert re.search(rf'href="/list/\?p={harbour.slug}"[^>]* data-remove="{lakeside.slug}"', page)


def test_an_empty_list_says_how_to_save_and_links_to_searching(client):
    page = text_of(saved_list(client))

    assert "No providers are saved yet." in page
    assert 'href="/providers/">Search for more providers' in page
    assert "<svg" not in page


def test_searching_for_more_carries_the_list(client, harbour, lakeside):
    page = text_of(saved_list(client, harbour.slug, lakeside.slug))

    assert f'href="/providers/?list={harbour.slug}%2C{lakeside.slug}">Search for more providers' in page


def test_a_new_search_from_results_reached_from_a_list_keeps_the_list(client, harbour, lakeside):
    content = client.get("/providers/", {"list": f"{harbour.slug},{lakeside.slug}"}).content.decode()

    assert f'<input type="hidden" name="list" value="{harbour.slug},{lakeside.slug}">' in content


def test_it_is_translated(client, harbour):
    page = text_of(saved_list(client, harbour.slug, prefix="/fr"))

    assert "Liste enregistrée" in page
    assert 'href="/fr/list/?p=' in page


# Building a list without JavaScript, from provider pages and results


def save_link(response, slug):
    link = re.search(rf'<a [^>]*href="([^"]*)"[^>]* data-save="{re.escape(slug)}"', response.content.decode())
    return html.unescape(link[1])


def test_a_provider_pages_save_link_starts_a_list_of_it(client, harbour):
    response = client.get(harbour.get_absolute_url())

    assert save_link(response, harbour.slug) == f"/list/?p={harbour.slug}"


def test_a_provider_page_reached_from_a_list_adds_itself_to_that_list(client, harbour, lakeside):
    response = client.get(harbour.get_absolute_url(), {"list": lakeside.slug})

    assert save_link(response, harbour.slug) == f"/list/?p={lakeside.slug}&p={harbour.slug}"
    assert "<span>Saved list (<span data-saved-count>1</span>)</span>" in text_of(response)


def test_a_provider_page_already_on_the_list_says_saved(client, harbour, lakeside):
    response = client.get(harbour.get_absolute_url(), {"list": f"{lakeside.slug},{harbour.slug}"})

    assert save_link(response, harbour.slug) == f"/list/?p={lakeside.slug}&p={harbour.slug}"
    assert re.search(r"<span data-save-label>Saved</span>", text_of(response))


def test_results_reached_from_a_list_save_into_it_and_link_providers_carrying_it(client, harbour, lakeside):
    response = client.get("/providers/", {"list": lakeside.slug})

    assert response.status_code == 200
    assert save_link(response, harbour.slug) == f"/list/?p={lakeside.slug}&p={harbour.slug}"
    assert f'href="{harbour.get_absolute_url()}?list={lakeside.slug}"' in text_of(response)


def test_the_save_script_is_loaded_once_deferred(client, harbour, lakeside):
    for response in (client.get("/providers/"), client.get(harbour.get_absolute_url()), saved_list(client)):
        assert text_of(response).count('<script src="/static/js/saved_list.js" defer></script>') == 1


# The call buttons' labels


def test_the_call_buttons_keep_the_space_before_the_number_inside_one_span(client, harbour):
    # The buttons are flex containers, which drop whitespace between their children: one span holds it all.
    assert '<span>Call <bdi dir="ltr">0722 123456</bdi></span>' in text_of(client.get("/providers/"))
    detail = text_of(client.get(harbour.get_absolute_url()))
    assert '<span><span class="visually-hidden">Call </span>Main: <bdi dir="ltr">0722 123456</bdi></span>' in detail
