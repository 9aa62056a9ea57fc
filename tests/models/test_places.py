"""The offline gazetteer: place names, postal codes and coordinates become points on the map."""

import pytest

from providers.models import Provider, places

# One well-known place per country, as people type them: accents, case and language vary.
PLACES_BY_COUNTRY = [
    ("Toronto", "CA"), ("Nairobi", "KE"), ("São Paulo", "BR"), ("sao paulo", "BR"), ("Springfield, IL", "US"),
    ("Lagos", "NG"), ("Accra", "GH"), ("Kampala", "UG"), ("Dar es Salaam", "TZ"), ("Addis Ababa", "ET"),
    ("Johannesburg", "ZA"), ("Cairo", "EG"), ("القاهرة", "EG"), ("Casablanca", "MA"), ("Tunis", "TN"),
    ("Dakar", "SN"), ("Kinshasa", "CD"), ("Luanda", "AO"), ("Harare", "ZW"), ("Lusaka", "ZM"),
    ("London", "GB"), ("Paris", "FR"), ("Berlin", "DE"), ("Madrid", "ES"), ("Lisboa", "PT"),
    ("Roma", "IT"), ("Zürich", "CH"), ("Wien", "AT"), ("Warszawa", "PL"), ("Kyiv", "UA"),
    ("Bucharest", "RO"), ("Athens", "GR"), ("Istanbul", "TR"), ("Stockholm", "SE"), ("Oslo", "NO"),
    ("Helsinki", "FI"), ("Dublin", "IE"), ("Amsterdam", "NL"), ("Brussels", "BE"), ("Praha", "CZ"),
    ("Mumbai", "IN"), ("Dhaka", "BD"), ("Karachi", "PK"), ("Kathmandu", "NP"), ("Colombo", "LK"),
    ("Bangkok", "TH"), ("Hanoi", "VN"), ("Manila", "PH"), ("Jakarta", "ID"), ("Kuala Lumpur", "MY"),
    ("Tokyo", "JP"), ("Seoul", "KR"), ("Beijing", "CN"), ("Sydney", "AU"), ("Auckland", "NZ"),
    ("Mexico City", "MX"), ("Ciudad de México", "MX"), ("Bogotá", "CO"), ("Lima", "PE"), ("Santiago, Chile", "CL"),
    ("Buenos Aires", "AR"), ("Montevideo", "UY"), ("Quito", "EC"), ("Caracas", "VE"), ("Kingston, Jamaica", "JM"),
    ("Port-au-Prince", "HT"), ("San Juan, Puerto Rico", "PR"), ("Tehran", "IR"), ("Baghdad", "IQ"), ("Beirut", "LB"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "country"), PLACES_BY_COUNTRY)
def test_place_names_resolve_in_many_countries(text, country):
    assert places.resolve(text).place.country == country


def test_the_examples_cover_at_least_fifty_countries():
    assert len({country for _text, country in PLACES_BY_COUNTRY}) >= 50


def test_accents_and_case_do_not_matter():
    assert places.resolve("ZURICH").place == places.resolve("Zürich").place == places.resolve("zürich").place


def test_an_ambiguous_name_picks_the_most_populous_place_and_offers_the_others():
    resolution = places.resolve("Springfield")

    assert resolution.place.label == "Springfield, MO, United States of America"
    assert "Springfield, MA, United States of America" in [place.label for place in resolution.alternatives]
    assert len(resolution.alternatives) <= places.MAX_ALTERNATIVES


def test_a_state_or_country_narrows_the_name():
    assert places.resolve("Springfield, Massachusetts").place.region == "MA"
    assert places.resolve("London, Canada").place.country == "CA"
    assert places.resolve("London, GB").place.country == "GB"


def test_coordinates_are_taken_as_they_are():
    place = places.resolve(" -1.2833 , 36.8167 ").place

    assert (place.latitude, place.longitude, place.country) == (-1.2833, 36.8167, "KE")
    assert place.label == "-1.283, 36.817"


@pytest.mark.django_db
def test_an_unknown_place_is_reported():
    with pytest.raises(places.PlaceNotFound):
        places.resolve("Qwertyuiopville")


@pytest.mark.django_db
def test_a_qualifier_that_fits_nothing_finds_nothing():
    with pytest.raises(places.PlaceNotFound):
        places.resolve("Nairobi, Narnia")


@pytest.mark.django_db
def test_postal_codes_and_small_towns_come_from_our_listings(make_provider):
    make_provider(name="A", city="Tiny Hamlet", country="KE", postal_code="80100", latitude=-4.0, longitude=39.6)
    make_provider(name="B", city="Tiny Hamlet", country="KE", postal_code="80100", latitude=-4.2, longitude=39.8)

    listings = Provider.objects.published()
    by_postal_code = places.resolve("80100", listings).place
    by_town = places.resolve("tiny hamlet, Kenya", listings).place

    assert (round(by_postal_code.latitude, 3), round(by_postal_code.longitude, 3)) == (-4.1, 39.7)
    assert by_town.country == "KE" and by_town.name == "Tiny Hamlet"


@pytest.mark.parametrize(
    ("latitude", "longitude", "time_zone"),
    [
        (-1.28, 36.82, "Africa/Nairobi"),
        (40.71, -74.0, "America/New_York"),
        (34.05, -118.24, "America/Los_Angeles"),
        (-17.7, 178.0, "Pacific/Fiji"),
        (35.68, 139.69, "Asia/Tokyo"),
        (52.52, 13.4, "Europe/Berlin"),
    ],
)
def test_the_time_zone_comes_from_the_nearest_place(latitude, longitude, time_zone):
    assert places.time_zone_at(latitude, longitude) == time_zone


@pytest.mark.parametrize(
    ("a", "b", "kilometres"),
    [
        ((51.5074, -0.1278), (48.8566, 2.3522), 343.6),  # London–Paris
        ((-17.7134, 178.065), (-17.7134, -179.935), 212.0),  # across the antimeridian
        ((89.9, 0.0), (89.9, 180.0), 22.2),  # over the North Pole
    ],
)
def test_great_circle_distances_are_right(a, b, kilometres):
    assert places.great_circle_km(*a, *b) == pytest.approx(kilometres, abs=0.5)
