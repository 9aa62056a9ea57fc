"""Likely duplicate listings: which listings, and why.

Two listings that are not archived are likely duplicates when they stand at the
same place and either have the same name or the same main phone number:

- same name: the names match once normalised (``name_key``);
- same phone: the main phone numbers match, extensions ignored (``phone_key``);
- same place: at most ``SAME_PLACE_METRES`` apart, or the same street address
  and postal code (``address_key``) whatever the pins say, since two geocoders
  place one door tens of metres apart and some listings have no pin.

A phone alone is not enough: organisations share one switchboard across many
sites (32 listings of the 2015 SAMHSA directory give the same number, in
different towns). Matching pairs are joined into groups (a listing matching two
others puts all three in one group); pairs a curator marked as not duplicates
(``NotDuplicate``) are left out first.

Nothing is compared with everything: listings are bucketed by country and name
key (or phone key), and within a bucket, sorted by latitude, each is compared
only with those less than ``SAME_PLACE_METRES`` north of it, or sharing its
address key.
"""

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from providers.models import NotDuplicate, Provider, places

SAME_PLACE_METRES = 100

SAME_NAME = "same name"
SAME_PHONE = "same phone"

# Words that tell listings of one provider apart only by how a source spells them.
NAME_STOP_WORDS = frozenset(
    {"the", "and", "inc", "incorporated", "llc", "llp", "lp", "ltd", "pllc", "pc", "corp", "corporation"}
)
# Abbreviations common in partners' data (the SAMHSA directory above all), and their full word.
NAME_WORDS = {
    "alc": "alcohol",
    "assn": "association",
    "assoc": "association",
    "behav": "behavioral",
    "behavioural": "behavioral",
    "centre": "center",
    "cntr": "center",
    "ctr": "center",
    "chem": "chemical",
    "cnty": "county",
    "csl": "counseling",
    "counselling": "counseling",
    "dept": "department",
    "educ": "education",
    "hlth": "health",
    "hosp": "hospital",
    "intl": "international",
    "med": "medical",
    "mt": "mount",
    "natl": "national",
    "outpt": "outpatient",
    "prog": "program",
    "programme": "program",
    "rehabilitation": "rehab",
    "service": "services",
    "servs": "services",
    "srvs": "services",
    "svc": "services",
    "svcs": "services",
    "st": "saint",
    "subst": "substance",
    "trt": "treatment",
    "univ": "university",
}
# Street words as the postal services abbreviate them, so "12 Main Street" and "12 Main St." match.
STREET_WORDS = {
    "avenue": "ave",
    "boulevard": "blvd",
    "circle": "cir",
    "court": "ct",
    "drive": "dr",
    "highway": "hwy",
    "lane": "ln",
    "parkway": "pkwy",
    "place": "pl",
    "road": "rd",
    "route": "rte",
    "square": "sq",
    "street": "st",
    "terrace": "ter",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}
_ZIP_PLUS_FOUR = re.compile(r"^(\d{5})-?\d{4}$")
_DEGREES_PER_METRE = 180 / (math.pi * places.EARTH_RADIUS_KM * 1000)


def _key(text, words, stop_words=frozenset()):
    """``text`` folded (case, accents, punctuation), each word replaced by its usual form, and run together.

    Running the words together makes "Health Care" match "HealthCare" and "Tan Bark Plaza" match "Tanbark Plaza".
    """
    return "".join(words.get(word, word) for word in places.normalise(text).split() if word not in stop_words)


def name_key(name: str) -> str:
    """The form of a name that two spellings of one provider share: "The Hope Ctr, Inc." and "Hope Center" match."""
    return _key(name, NAME_WORDS, NAME_STOP_WORDS)


def phone_key(phone: str) -> str:
    """The stored E.164 number without its extension: one switchboard serves a site's programmes."""
    return phone.partition(";")[0]


def address_key(street_address: str, postal_code: str) -> str:
    """Street address and postal code as one key; empty unless both are known. ZIP+4 counts as its five digits."""
    street = _key(street_address, STREET_WORDS)
    postal = "".join(postal_code.split()).upper()
    postal = _ZIP_PLUS_FOUR.sub(r"\1", postal)
    return f"{street}|{postal}" if street and postal else ""


class Listing(NamedTuple):
    """What detection reads of a provider: one row of ``candidates().values_list(*Listing._fields)``."""

    pk: int
    name: str
    phone: str
    latitude: float | None
    longitude: float | None
    street_address: str
    postal_code: str
    country: str
    source_id: int | None


@dataclass
class DuplicateGroup:
    """Listings that are likely one provider, with the reasons their pairs matched."""

    ids: list[int]
    reasons: list[str]
    providers: list[Provider] = field(default_factory=list)

    @property
    def reason_text(self):
        return ", ".join(self.reasons)


def candidates():
    """The listings duplicates are looked for among: drafts and published ones (merged ones are archived)."""
    return Provider.objects.exclude(status=Provider.Status.ARCHIVED)


def find_duplicates(queryset=None, source=None) -> list[DuplicateGroup]:
    """Groups of likely duplicates among ``queryset`` (default: ``candidates()``), ordered by their first name.

    With ``source`` (a Source), only the groups holding at least one of its listings.
    Two queries whatever the number of listings: the listings, then the pairs dismissed by curators.
    """
    queryset = candidates() if queryset is None else queryset
    listings = [Listing._make(row) for row in queryset.order_by().values_list(*Listing._fields)]
    dismissed = set(NotDuplicate.objects.values_list("first_id", "second_id"))
    groups = group_duplicates(listings, dismissed)
    if source is not None:
        of_source = {listing.pk for listing in listings if listing.source_id == source.pk}
        groups = [group for group in groups if of_source.intersection(group.ids)]
    return groups


def group_duplicates(listings, dismissed=frozenset()) -> list[DuplicateGroup]:
    """Group ``listings`` (Listing tuples) that match, leaving out the ``dismissed`` (smaller id, larger id) pairs."""
    reasons = defaultdict(set)
    addresses = {}
    for reason, attribute, key in ((SAME_NAME, "name", name_key), (SAME_PHONE, "phone", phone_key)):
        buckets = defaultdict(list)
        for listing in listings:
            value = key(getattr(listing, attribute))
            if value:
                buckets[(listing.country, value)].append(listing)
        for members in buckets.values():
            if len(members) > 1:
                for pair in _same_place_pairs(members, addresses):
                    reasons[pair].add(reason)
    for pair in dismissed:
        reasons.pop(pair, None)
    groups = _connected(reasons)
    names = {listing.pk: listing.name for listing in listings}
    return sorted(groups, key=lambda group: (places.normalise(names[group.ids[0]]), group.ids[0]))


def _same_place_pairs(members, addresses):
    """(smaller id, larger id) for each two of ``members`` at the same place; ``addresses`` caches address keys."""
    pairs = set()
    by_address = defaultdict(list)
    for listing in members:
        if listing.pk not in addresses:
            addresses[listing.pk] = address_key(listing.street_address, listing.postal_code)
        if addresses[listing.pk]:
            by_address[addresses[listing.pk]].append(listing.pk)
    for ids in by_address.values():
        ids.sort()
        pairs.update((first, second) for index, first in enumerate(ids) for second in ids[index + 1 :])
    pinned = sorted((listing for listing in members if listing.latitude is not None), key=lambda item: item.latitude)
    reach = SAME_PLACE_METRES * _DEGREES_PER_METRE
    for index, listing in enumerate(pinned):
        for other in pinned[index + 1 :]:
            if other.latitude - listing.latitude > reach:
                break
            metres = 1000 * places.great_circle_km(listing.latitude, listing.longitude, other.latitude, other.longitude)
            if metres <= SAME_PLACE_METRES:
                pairs.add((min(listing.pk, other.pk), max(listing.pk, other.pk)))
    return pairs


def _connected(reasons):
    """Join the matching pairs into groups (union-find); each group's reasons are those of its pairs."""
    parent = {}

    def root(pk):
        parent.setdefault(pk, pk)
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    for first, second in reasons:
        parent[root(first)] = root(second)
    members, group_reasons = defaultdict(list), defaultdict(set)
    for pk in parent:
        members[root(pk)].append(pk)
    for (first, _second), pair_reasons in reasons.items():
        group_reasons[root(first)] |= pair_reasons
    return [DuplicateGroup(sorted(ids), sorted(group_reasons[top])) for top, ids in members.items()]


def attach_providers(groups):
    """Load every listing of ``groups`` with its source, in one query, as ``group.providers`` (in id order)."""
    ids = [pk for group in groups for pk in group.ids]
    providers = Provider.objects.select_related("source").in_bulk(ids)
    for group in groups:
        group.providers = [providers[pk] for pk in group.ids if pk in providers]
    return groups
