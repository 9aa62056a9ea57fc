"""Merging duplicate listings: the curator keeps one, the others are archived and lead to it.

Rules, so that a merge never loses a fact a person needs and never invents one:

- The keeper keeps every value it has. Each of its empty fields in
  ``FILLED_FIELDS`` takes the value of the first merged listing (in id order)
  that has one; coordinates travel as a pair.
- Terms (modalities, settings, medications, payment, populations, languages)
  are the union of all the listings' terms.
- Opening hours are taken whole from the first merged listing that has any,
  and only when the keeper has none: two weeks mixed would describe neither.
  Walk-in hours likewise, on their own.
- If a merged listing was published, so is the keeper afterwards: a merge
  never takes a provider off the public directory.
- The merged listings become archived with ``merged_into`` the keeper; their
  own values, source and external id stay, so their addresses redirect (301)
  and a later import of their source record updates them without publishing
  them again. Listings merged into them earlier now point at the keeper.
- Not carried over: name, slug, status of archived listings, source and
  external id, and the verification date (a merge verifies nothing).

Everything happens in one transaction, after the keeper passes the model's
validation, and every saved listing gets a history record (channel "merge").
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import Truncator

from providers.curation.history import hours_label
from providers.models import HOURS_FIELDS, TAXONOMY_FIELDS, OpeningInterval, Provider, phones
from providers.models.history import ProviderHistoryExtras

FILLED_FIELDS = (
    "organization",
    "description",
    "street_address",
    "street_address_2",
    "city",
    "region",
    "postal_code",
    "time_zone",
    "phone",
    "intake_phone",
    "hotline_phone",
    "email",
    "website",
    "telehealth",
    "accepting_new_clients",
)
CHANGE_REASON_LENGTH = 100


@dataclass
class Filled:
    label: str
    value: str
    source: Provider


@dataclass
class MergePlan:
    """What merging ``others`` into ``keeper`` does, shown to the curator before it is done."""

    keeper: Provider
    others: list[Provider]
    filled: list[Filled] = field(default_factory=list)
    # (taxonomy label, [term names]) for each taxonomy the keeper gains terms in.
    added_terms: list[tuple[str, list[str]]] = field(default_factory=list)
    # {HOURS_FIELDS name: the listing whose week of those hours the keeper takes}.
    hours_from: dict = field(default_factory=dict)

    @property
    def hours_taken(self):
        """(label, listing) for each week of hours the keeper takes."""
        return [(hours_label(name), donor) for name, donor in self.hours_from.items()]

    publishes: bool = False
    # What merge() writes: the keeper's new field values, and the term ids it gains per taxonomy field.
    values: dict = field(default_factory=dict, repr=False)
    term_ids: dict = field(default_factory=dict, repr=False)


def plan_merge(keeper_id: int, other_ids: list[int], lock=False) -> MergePlan:
    """What merging the listings ``other_ids`` into ``keeper_id`` changes; ValidationError when it cannot be done.

    With ``lock``, the listings stay locked until the transaction ends.
    """
    ids = [keeper_id, *other_ids]
    queryset = Provider.objects.select_for_update() if lock else Provider.objects.select_related("source")
    found = queryset.in_bulk(ids)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError(f"No listing has the id {missing[0]}.")
    keeper, others = found[keeper_id], sorted((found[pk] for pk in other_ids), key=lambda provider: provider.pk)
    _check(keeper, others)
    plan = MergePlan(keeper, others)
    for name in FILLED_FIELDS:
        if _is_empty(getattr(keeper, name)):
            donor = next((other for other in others if not _is_empty(getattr(other, name))), None)
            if donor is not None:
                plan.values[name] = getattr(donor, name)
                plan.filled.append(Filled(_label(name), _display(name, getattr(donor, name), keeper), donor))
    if not keeper.has_coordinates:
        donor = next((other for other in others if other.has_coordinates), None)
        if donor is not None:
            plan.values.update(latitude=donor.latitude, longitude=donor.longitude)
            plan.filled.append(Filled("coordinates", f"{donor.latitude}, {donor.longitude}", donor))
    for name in TAXONOMY_FIELDS.values():
        relation = Provider._meta.get_field(name)
        gained = relation.related_model.objects.filter(providers__in=others).exclude(providers=keeper).distinct()
        gained = list(gained.order_by("order", "name"))
        if gained:
            plan.term_ids[name] = [term.pk for term in gained]
            plan.added_terms.append((_label(name), [term.name for term in gained]))
    for name, walk_in in HOURS_FIELDS.items():
        if not keeper.opening_hours.filter(walk_in=walk_in).exists():
            intervals = OpeningInterval.objects.filter(provider__in=others, walk_in=walk_in)
            with_hours = set(intervals.values_list("provider_id", flat=True))
            donor = next((other for other in others if other.pk in with_hours), None)
            if donor is not None:
                plan.hours_from[name] = donor
    plan.publishes = not keeper.is_public and any(other.is_public for other in others)
    return plan


def merge(keeper_id: int, other_ids: list[int], user) -> MergePlan:
    """Merge the listings ``other_ids`` into the listing ``keeper_id``, in one transaction; see the module's rules.

    Raises ValidationError, with nothing changed, when a listing is missing or the merge cannot be done.
    """
    with transaction.atomic():
        # Locked, so that two curators merging the same listings at once cannot both succeed.
        plan = plan_merge(keeper_id, other_ids, lock=True)
        keeper = plan.keeper
        for name, value in plan.values.items():
            setattr(keeper, name, value)
        if plan.publishes:
            keeper.status = Provider.Status.PUBLISHED
        keeper.full_clean()
        for name, term_ids in plan.term_ids.items():
            getattr(keeper, name).add(*term_ids)
        OpeningInterval.objects.bulk_create(
            OpeningInterval(
                provider=keeper,
                walk_in=interval.walk_in,
                weekday=interval.weekday,
                opens=interval.opens,
                closes=interval.closes,
            )
            for name, donor in plan.hours_from.items()
            for interval in donor.opening_hours.filter(walk_in=HOURS_FIELDS[name])
        )
        names = ", ".join(f"{other.name} (#{other.pk})" for other in plan.others)
        # Saved after its terms and hours change, so that its history record holds them.
        _save(keeper, user, f"Merged in {names}")
        for other in [*plan.others, *Provider.objects.filter(merged_into__in=plan.others)]:
            other.status = Provider.Status.ARCHIVED
            other.merged_into = keeper
            _save(
                other,
                user,
                f"Merged into {keeper.name} (#{keeper.pk})",
                update_fields=["status", "merged_into", "updated_at"],
            )
    return plan


def _check(keeper, others):
    if not others:
        raise ValidationError("Choose at least one other listing to merge into the one you keep.")
    if any(other.pk == keeper.pk for other in others):
        raise ValidationError("The listing you keep cannot also be merged into itself.")
    for provider in [keeper, *others]:
        if provider.merged_into_id is not None:
            raise ValidationError(f"“{provider}” (#{provider.pk}) was already merged into another listing.")
    if keeper.status == Provider.Status.ARCHIVED:
        raise ValidationError(f"“{keeper}” is archived; keep a listing that is published or a draft.")
    countries = {provider.country.code for provider in [keeper, *others]}
    if len(countries) > 1:
        raise ValidationError("Listings in different countries are different providers; they cannot be merged.")


def _save(provider, user, reason, **kwargs):
    provider._history_user = user
    provider._history_channel = ProviderHistoryExtras.Channel.MERGE
    provider._change_reason = Truncator(reason).chars(CHANGE_REASON_LENGTH)
    provider.save(**kwargs)


def _is_empty(value):
    return value is None or value == ""


def _label(name):
    return str(Provider._meta.get_field(name).verbose_name)


def _display(name, value, keeper):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name.endswith("phone"):
        return phones.display_phone(value, keeper.country.code)
    return str(value)
