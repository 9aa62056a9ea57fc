"""Anyone can report a problem with a listing or suggest a provider; abuse saves nothing."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from providers.models import Provider, Suggestion

pytestmark = pytest.mark.django_db

THANKS = "/suggest/thanks/"
NEW_PROVIDER = "/suggest/"


def correction_url(provider):
    return f"/providers/{provider.slug}/suggest/"


def correction(**overrides):
    """POST data for a valid correction: a wrong phone number, with the right one."""
    data = {
        "problem": Suggestion.Problem.PHONE,
        "message": "The number rings a pizzeria; the clinic's is on their door.",
        "name": "",
        "phone": "0722 123456",
        "website": "",
        "email": "",
        "street_address": "",
        "city": "",
        "region": "",
        "postal_code": "",
        "contact_email": "",
        "homepage": "",
    }
    data.update(overrides)
    return data


def new_provider(**overrides):
    """POST data for a valid new-provider suggestion."""
    data = {
        "name": "Kisumu Harm Reduction Centre",
        "country": "KE",
        "city": "Kisumu",
        "street_address": "Oginga Odinga Street 12",
        "phone": "0722 654321",
        "website": "kisumu-hr.example.org",
        "description": "Methadone and counselling.",
        "message": "I work there.",
        "contact_email": "",
        "homepage": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def clinic(make_provider):
    return make_provider(name="Harbour Clinic", city="Mombasa", country="KE", phone="+254711000000")


# --- Where people find the forms --------------------------------------------------------------


def test_every_published_provider_page_links_to_the_correction_form(client, clinic):
    response = client.get(clinic.get_absolute_url())

    assert b"Report a problem or suggest an update" in response.content
    assert correction_url(clinic).encode() in response.content


def test_a_curator_previewing_a_draft_gets_no_correction_link(curator_client, make_provider):
    draft = make_provider(status=Provider.Status.DRAFT)

    response = curator_client.get(draft.get_absolute_url())

    assert response.status_code == 200
    assert b"Report a problem" not in response.content


@pytest.mark.parametrize("status", [Provider.Status.DRAFT, Provider.Status.ARCHIVED])
def test_only_published_listings_take_corrections(client, make_provider, status):
    provider = make_provider(status=status)

    assert client.get(correction_url(provider)).status_code == 404
    assert client.post(correction_url(provider), correction()).status_code == 404
    assert not Suggestion.objects.exists()


def test_every_page_offers_to_suggest_a_provider(client):
    response = client.get("/about/")

    assert b'href="/suggest/"' in response.content


def test_a_search_without_results_offers_to_suggest_a_provider(client, clinic):
    response = client.get("/providers/?q=nothing-matches-this")

    assert b"No providers match" in response.content
    assert b'href="/suggest/"' in response.content


# --- Sending a correction ---------------------------------------------------------------------


def test_the_correction_form_asks_what_is_wrong_and_offers_new_details(client, clinic):
    response = client.get(correction_url(clinic))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Harbour Clinic" in content
    assert 'name="csrfmiddlewaretoken"' in content
    for label in ("It has closed or moved away", "The phone number is wrong", "Correct phone number", "Street address"):
        assert label in content
    assert "Your email address (optional)" in content


def test_a_correction_is_saved_for_the_curators_and_the_person_is_thanked(client, clinic):
    response = client.post(
        correction_url(clinic),
        correction(website="harbour.example.org", contact_email="amina@example.org"),
    )

    assert response.status_code == 302
    assert response["Location"] == THANKS
    suggestion = Suggestion.objects.get()
    assert suggestion.kind == Suggestion.Kind.CORRECTION
    assert suggestion.provider == clinic
    assert suggestion.problem == Suggestion.Problem.PHONE
    assert suggestion.message == "The number rings a pizzeria; the clinic's is on their door."
    # Only what the person filled in; as typed, for the curator to check.
    assert suggestion.proposed == {"phone": "0722 123456", "website": "https://harbour.example.org"}
    assert suggestion.contact_email == "amina@example.org"
    assert suggestion.status == Suggestion.Status.PENDING
    clinic.refresh_from_db()
    assert clinic.phone == "+254711000000", "nothing changes before a curator accepts it"


def test_the_thank_you_page_says_nothing_about_the_queue(client, clinic):
    before = client.get(THANKS)
    for _ in range(3):
        client.post(correction_url(clinic), correction())

    after = client.get(THANKS)

    assert after.status_code == 200
    assert b"Thank you" in after.content
    assert after.content == before.content, "no id, count or status"


def test_a_correction_needs_to_say_what_is_wrong(client, clinic):
    response = client.post(correction_url(clinic), correction(problem="", message=""))

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"problem", "message"}
    assert not Suggestion.objects.exists()


def test_an_unknown_problem_is_refused(client, clinic):
    response = client.post(correction_url(clinic), correction(problem="merged"))

    assert "problem" in response.context["form"].errors
    assert not Suggestion.objects.exists()


def test_a_proposed_phone_must_be_a_number_of_the_providers_country(client, clinic):
    response = client.post(correction_url(clinic), correction(phone="12"))

    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not Suggestion.objects.exists()


# --- Suggesting a provider --------------------------------------------------------------------


def test_a_new_provider_is_saved_for_the_curators(client):
    form = client.get(NEW_PROVIDER)
    assert b"Suggest a provider" in form.content
    assert b'name="csrfmiddlewaretoken"' in form.content

    response = client.post(NEW_PROVIDER, new_provider(contact_email="amina@example.org"))

    assert response["Location"] == THANKS
    suggestion = Suggestion.objects.get()
    assert suggestion.kind == Suggestion.Kind.NEW_PROVIDER
    assert suggestion.provider is None
    assert suggestion.proposed == {
        "name": "Kisumu Harm Reduction Centre",
        "country": "KE",
        "city": "Kisumu",
        "street_address": "Oginga Odinga Street 12",
        "phone": "0722 654321",
        "website": "https://kisumu-hr.example.org",
        "description": "Methadone and counselling.",
    }
    assert suggestion.message == "I work there."
    assert not Provider.objects.exists(), "a curator creates the listing"


def test_a_new_provider_needs_a_name_and_a_country(client):
    response = client.post(NEW_PROVIDER, new_provider(name="", country=""))

    assert set(response.context["form"].errors) == {"name", "country"}
    assert not Suggestion.objects.exists()


def test_line_breaks_in_one_line_fields_are_flattened(client):
    client.post(NEW_PROVIDER, new_provider(name="Kisumu\r\nBcc: someone@example.org"))

    assert Suggestion.objects.get().proposed["name"] == "Kisumu Bcc: someone@example.org"


# --- Abuse saves nothing ----------------------------------------------------------------------


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client, clinic):
    content = client.get(correction_url(clinic)).content.decode()

    honeypot = content[content.index('name="homepage"') - 600 : content.index('name="homepage"')]
    assert 'class="d-none"' in honeypot and 'aria-hidden="true"' in honeypot
    assert "Leave this field empty" in honeypot


@pytest.mark.parametrize("url, data", [("correction", correction), (NEW_PROVIDER, new_provider)])
def test_a_filled_honeypot_saves_nothing_but_looks_the_same(client, clinic, curator, url, data):
    curator.email = "curator@example.org"
    curator.save()
    url = correction_url(clinic) if url == "correction" else url

    response = client.post(url, data(homepage="https://spam.example"))

    assert response.status_code == 302
    assert response["Location"] == THANKS
    assert not Suggestion.objects.exists()
    assert mail.outbox == []


def test_a_sixth_suggestion_within_the_hour_is_refused_with_other_ways_to_get_help(client, clinic):
    for _ in range(5):
        assert client.post(correction_url(clinic), correction())["Location"] == THANKS

    response = client.post(correction_url(clinic), correction())

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    content = response.content.decode()
    assert "Please try again later" in content
    assert "emergency number" in content
    assert 'href="tel:+254711000000"' in content, "the provider's own phone, to check the details directly"
    assert Suggestion.objects.count() == 5


def test_the_limit_counts_new_provider_suggestions_too(client, settings):
    settings.SUGGESTION_RATE_LIMIT = 1
    client.post(NEW_PROVIDER, new_provider())

    response = client.post(NEW_PROVIDER, new_provider())

    assert response.status_code == 429
    assert b"emergency number" in response.content
    assert Suggestion.objects.count() == 1


def test_the_limit_is_per_address(clinic, settings):
    settings.SUGGESTION_RATE_LIMIT = 1
    Client(REMOTE_ADDR="203.0.113.1").post(correction_url(clinic), correction())

    assert Client(REMOTE_ADDR="203.0.113.1").post(correction_url(clinic), correction()).status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.2").post(correction_url(clinic), correction()).status_code == 302


def test_mistakes_do_not_count_against_the_limit(client, clinic, settings):
    settings.SUGGESTION_RATE_LIMIT = 1
    for _ in range(3):
        client.post(correction_url(clinic), correction(message=""))

    assert client.post(correction_url(clinic), correction())["Location"] == THANKS


def test_a_forged_x_forwarded_for_does_not_escape_the_limit(client, clinic, settings):
    settings.SUGGESTION_RATE_LIMIT = 1
    client.post(correction_url(clinic), correction(), HTTP_X_FORWARDED_FOR="198.51.100.1")

    response = client.post(correction_url(clinic), correction(), HTTP_X_FORWARDED_FOR="198.51.100.2")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_counts(clinic, settings):
    settings.SUGGESTION_RATE_LIMIT = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    # Whatever a visitor writes into the header comes first; the proxy appends the address it saw.
    proxy.post(correction_url(clinic), correction(), HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.1")

    again = proxy.post(correction_url(clinic), correction(), HTTP_X_FORWARDED_FOR="198.51.100.10, 203.0.113.1")
    other = proxy.post(correction_url(clinic), correction(), HTTP_X_FORWARDED_FOR="203.0.113.2")

    assert again.status_code == 429
    assert other.status_code == 302


def test_the_address_is_counted_only_as_a_keyed_hash(clinic, settings):
    # A local-memory cache, whose keys can be listed, even when the tests run with REDIS_URL.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    Client(REMOTE_ADDR="203.0.113.77").post(correction_url(clinic), correction())

    keys = " ".join(cache._cache)
    assert "suggestions:sent:" in keys
    assert "203.0.113.77" not in keys
    assert "203.0.113.77" not in str(Suggestion.objects.values().get())


def test_a_post_without_the_csrf_token_is_refused(clinic):
    strict = Client(enforce_csrf_checks=True)
    strict.get(correction_url(clinic))  # sets the CSRF cookie, whose token the form would carry

    response = strict.post(correction_url(clinic), correction())

    assert response.status_code == 403
    assert b"The form could not be sent" in response.content
    assert not Suggestion.objects.exists()


def test_the_form_works_with_csrf_checks_on(clinic):
    strict = Client(enforce_csrf_checks=True)
    strict.get(correction_url(clinic))

    response = strict.post(correction_url(clinic), correction(csrfmiddlewaretoken=strict.cookies["csrftoken"].value))

    assert response["Location"] == THANKS
    assert Suggestion.objects.count() == 1


def test_an_oversized_body_gets_a_clear_page(client, clinic):
    response = client.post(correction_url(clinic), correction(message="x" * 3_000_000))

    assert response.status_code == 413
    assert b"What you sent was too large" in response.content
    assert b"a message can be up to 2000 characters" in response.content
    assert not Suggestion.objects.exists()


def test_a_message_over_the_limit_is_refused_with_the_limit(client, clinic):
    response = client.post(correction_url(clinic), correction(message="x" * (Suggestion.MESSAGE_MAX_LENGTH + 1)))

    assert response.status_code == 200
    assert "at most 2000 characters" in str(response.context["form"].errors["message"])
    assert not Suggestion.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "x" * 201),
        ("city", "x" * 101),
        ("postal_code", "x" * 21),
        ("website", "not a web address"),
        ("email", "not-an-email"),
    ],
)
def test_proposed_values_over_their_limits_are_refused(client, clinic, field, value):
    response = client.post(correction_url(clinic), correction(**{field: value}))

    assert field in response.context["form"].errors
    assert not Suggestion.objects.exists()


def test_an_invalid_contact_email_is_refused(client, clinic):
    response = client.post(correction_url(clinic), correction(contact_email="amina at example"))

    assert "Enter a valid email address." in response.context["form"].errors["contact_email"]
    assert not Suggestion.objects.exists()


def test_a_long_description_of_a_new_provider_is_refused(client):
    response = client.post(NEW_PROVIDER, new_provider(description="x" * (Suggestion.MESSAGE_MAX_LENGTH + 1)))

    assert "description" in response.context["form"].errors
    assert not Suggestion.objects.exists()


def test_only_get_and_post_are_answered(client, clinic):
    assert client.put(correction_url(clinic)).status_code == 405
    assert client.delete(NEW_PROVIDER).status_code == 405


# --- Privacy ----------------------------------------------------------------------------------


def test_no_cookie_but_the_csrf_cookie_and_only_on_the_form_pages(client, clinic):
    assert not client.get(clinic.get_absolute_url()).cookies
    assert set(client.get(correction_url(clinic)).cookies) == {"csrftoken"}
    posted = client.post(correction_url(clinic), correction())
    assert set(posted.cookies) <= {"csrftoken"}
    assert not client.get(THANKS).cookies
    assert not client.get(NEW_PROVIDER).cookies.keys() - {"csrftoken"}
