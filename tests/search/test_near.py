"""Help near me: /providers/?near=<place>&radius=<km>, nearest first, with distances."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import places

pytestmark = pytest.mark.django_db

NAIROBI = (-1.2864, 36.8172)


def search(client, query):
    response = client.get("/providers/?" + query)
    assert response.status_code == 200
    return response


def names(response):
    return [provider.name for provider in response.context["page_obj"]]


@pytest.fixture
def around_nairobi(make_provider):
    """Providers at known distances from central Nairobi."""
    make_provider(name="Centre", latitude=-1.2864, longitude=36.8172, country="KE", modalities=["mat"])  # 0 km
    make_provider(name="Westlands", latitude=-1.2676, longitude=36.8108, country="KE")  # 2.2 km
    make_provider(name="Thika", latitude=-1.0388, longitude=37.0834, country="KE", modalities=["mat"])  # 40 km
    make_provider(name="Nakuru", latitude=-0.3031, longitude=36.0800, country="KE")  # 136 km
    make_provider(name="Unmapped", country="KE")


def test_results_are_the_providers_within_the_radius_nearest_first(client, around_nairobi):
    response = search(client, "near=-1.2864,36.8172&radius=50")

    assert names(response) == ["Centre", "Westlands", "Thika"]


def test_each_result_carries_its_great_circle_distance(client, around_nairobi):
    response = search(client, "near=-1.2864,36.8172&radius=50")

    for provider in response.context["page_obj"]:
        expected = places.great_circle_km(*NAIROBI, provider.latitude, provider.longitude)
        assert provider.distance_km == pytest.approx(expected, abs=0.01)
    assert '<strong class="distance">2.2 km</strong>' in response.content.decode()


def test_the_default_radius_is_25_km(client, around_nairobi):
    assert names(search(client, "near=-1.2864,36.8172")) == ["Centre", "Westlands"]


def test_a_place_name_works_like_coordinates(client, around_nairobi):
    response = search(client, "near=nairobi&radius=50")

    assert names(response) == ["Centre", "Westlands", "Thika"]
    assert "3 providers found within 50 km of Nairobi, Kenya" in response.content.decode()


def test_it_combines_with_other_filters(client, around_nairobi):
    assert names(search(client, "near=Nairobi&radius=100&modality=mat")) == ["Centre", "Thika"]


def test_providers_without_coordinates_are_left_out_and_counted(client, around_nairobi):
    response = search(client, "near=Nairobi&radius=500")

    assert "Unmapped" not in names(response)
    assert "1 matching provider without a map location is not included." in response.content.decode()


def test_another_sort_order_can_be_chosen(client, around_nairobi):
    assert names(search(client, "near=Nairobi&radius=50&sort=name")) == ["Centre", "Thika", "Westlands"]


def test_the_search_works_across_the_antimeridian(client, make_provider):
    make_provider(name="East of the line", latitude=-17.0, longitude=179.95)  # 5.3 km
    make_provider(name="West of the line", latitude=-17.0, longitude=-179.9)  # 21.3 km
    make_provider(name="Too far west", latitude=-17.0, longitude=-179.5)  # 63.8 km
    make_provider(name="Too far east", latitude=-17.0, longitude=179.0)  # 95.6 km

    response = search(client, "near=-17.0,179.9&radius=25")

    assert names(response) == ["East of the line", "West of the line"]


def test_the_search_works_around_a_pole(client, make_provider):
    make_provider(name="Other side of the pole", latitude=89.9, longitude=180.0)  # 22.2 km
    make_provider(name="Far south", latitude=89.0, longitude=0.0)  # 100 km

    assert names(search(client, "near=89.9,0&radius=25")) == ["Other side of the pole"]


def test_distances_are_in_miles_where_people_use_them(client, make_provider):
    make_provider(name="Downtown", latitude=39.78, longitude=-89.65, country="US")

    response = search(client, "near=Springfield, IL&radius=25")

    content = response.content.decode()
    assert "within 16 mi of Springfield, IL" in content
    assert '<strong class="distance">1.5 mi</strong>' in content


def test_an_ambiguous_place_offers_the_other_places(client, around_nairobi):
    content = search(client, "near=Springfield&radius=25").content.decode()

    assert "Other places with this name:" in content
    assert "Springfield, MA, United States of America" in content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("near=Qwertyuiopville", "We could not find “Qwertyuiopville”."),
        ("near=95,10", "Latitude must be between -90 and 90 and longitude between -180 and 180."),
        ("near=10,200", "Latitude must be between -90 and 90 and longitude between -180 and 180."),
        ("near=%20,%20", "Enter a place name, a postal code, or latitude,longitude."),
        ("near=Nairobi&radius=0", "Ensure this value is greater than or equal to 1."),
        ("near=Nairobi&radius=-5", "Ensure this value is greater than or equal to 1."),
        ("near=Nairobi&radius=100000", "Ensure this value is less than or equal to 500."),
        ("near=Nairobi&radius=ten", "Enter a number."),
        ("near=Nairobi&radius=nan", "Enter a number."),
        ("near=Nairobi&radius=inf", "Enter a number."),
    ],
)
def test_bad_place_or_radius_gives_a_clear_form_error(client, around_nairobi, query, message):
    content = search(client, query).content.decode()

    assert "Some filters could not be used" in content
    assert message in content


def test_an_empty_place_is_simply_no_place(client, around_nairobi):
    response = search(client, "near=&radius=25")

    assert len(names(response)) == 5
    assert "Some filters could not be used" not in response.content.decode()


def test_a_near_search_runs_a_constant_number_of_queries(client, make_provider):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            search(client, "near=Nairobi&radius=100&modality=mat")
        return len(queries)

    make_provider(name="One", latitude=-1.2, longitude=36.8, modalities=["mat"])
    few = count_queries()
    for number in range(25):
        make_provider(name=f"Clinic {number}", latitude=-1.2 - number / 100, longitude=36.8, modalities=["mat"])

    assert count_queries() == few <= 10
