"""What happens when records change, whichever way they change: admin, importer, merge, revert,
``loaddata`` (raw saves included) or the shell.

- The caches a change affects are forgotten at the change and again when it commits
  (providers.caching lists them); then the counts beside the commonest search choices are
  queued to be counted again (providers.search.choice_counts).
- A listing's indexed text is derived again: ``search_text`` from its own fields and its
  organisation's name, ``term_tokens`` from its country and the term tables (providers.models.term_tokens).
  They are written in the same transaction as the change, so a listing and its indexed text
  commit together. The importer writes both itself, derived by the same functions, with its rows.
- Each version django-simple-history records gets its channel, terms and hours.
"""

from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from providers import caching
from providers.curation.history import fill_history_extras
from providers.models import TAXONOMY_FIELDS, CrisisLine, OpeningInterval, Organization, Provider, Source, term_tokens
from providers.search import choice_counts

TERM_MODELS = [Provider._meta.get_field(field).related_model for field in TAXONOMY_FIELDS.values()]
TERM_TABLES = [Provider._meta.get_field(field).remote_field.through for field in TAXONOMY_FIELDS.values()]


def forget_listings(sender, using=None, **kwargs):
    caching.listings_changed(using=using)


def forget_listings_for_terms(sender, action, using=None, **kwargs):
    # Once per change: each add, remove or clear also sends a "pre_" signal.
    if action.startswith("post_"):
        caching.listings_changed(using=using)


def forget_vocabulary(sender, using=None, **kwargs):
    caching.forget(caching.VOCABULARY, *caching.LISTINGS, using=using)


def forget_crisis_lines(sender, using=None, **kwargs):
    caching.forget(caching.CRISIS_LINES, caching.PAGES, using=using)


for model in [Provider, Organization, OpeningInterval, Source]:
    post_save.connect(forget_listings, sender=model, dispatch_uid=f"forget-listings-save-{model.__name__}")
    post_delete.connect(forget_listings, sender=model, dispatch_uid=f"forget-listings-delete-{model.__name__}")
for table in TERM_TABLES:
    m2m_changed.connect(forget_listings_for_terms, sender=table, dispatch_uid=f"forget-listings-terms-{table.__name__}")
for model in TERM_MODELS:
    post_save.connect(forget_vocabulary, sender=model, dispatch_uid=f"forget-vocabulary-save-{model.__name__}")
    post_delete.connect(forget_vocabulary, sender=model, dispatch_uid=f"forget-vocabulary-delete-{model.__name__}")
post_save.connect(forget_crisis_lines, sender=CrisisLine, dispatch_uid="forget-crisis-lines-save")
post_delete.connect(forget_crisis_lines, sender=CrisisLine, dispatch_uid="forget-crisis-lines-delete")


@receiver(caching.listings_forgotten, dispatch_uid="fill-choice-counts")
def queue_choice_counts(sender, using, **kwargs):
    choice_counts.queue_fill(using or DEFAULT_DB_ALIAS)


@receiver(pre_save, sender=Provider, dispatch_uid="provider-hsds-ids")
@receiver(pre_save, sender=Organization, dispatch_uid="organization-hsds-ids")
def assign_hsds_ids(sender, instance, **kwargs):
    # A signal rather than save(): loaddata saves raw, and partners' fixtures need ids too.
    instance.assign_hsds_ids()


@receiver(pre_save, sender=Provider, dispatch_uid="provider-derived-text")
def derive_indexed_text(sender, instance, using, update_fields, **kwargs):
    """Fixtures and forms carry neither text, or an old one: both are derived again on every save."""
    instance.search_text = instance.listing_text()
    if update_fields is None or {"country", "term_tokens"} & set(update_fields):
        held = Provider.objects.using(using).filter(pk=instance.pk).held_terms() if instance.pk else {}
        instance.term_tokens = term_tokens.tokens_text(instance.country, held.get(instance.pk, {}))


@receiver(m2m_changed, dispatch_uid="provider-term-tokens")
def refresh_term_tokens(sender, instance, action, reverse, model, pk_set, using, **kwargs):
    if sender not in TERM_TABLES:
        return
    if action == "pre_clear" and reverse:
        # The term's listings are gone once cleared; remember them.
        instance.cleared_listings = list(instance.providers.using(using).values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        listings = Provider.objects.using(using).filter(pk=instance.pk)
    elif action == "post_clear":
        listings = Provider.objects.using(using).filter(pk__in=instance.cleared_listings)
    else:
        listings = Provider.objects.using(using).filter(pk__in=pk_set)
    tokens = listings.refresh_term_tokens()
    if not reverse:
        # The listing in hand too, so that what it shows matches the row.
        instance.term_tokens = tokens[instance.pk]


# Deleting an organisation or a term unlinks its listings by an UPDATE (SET_NULL) or a cascade, which
# sends no signal to them and would leave its name in their search text or its token in their term
# tokens: these two receivers refresh both.
def remember_listings(sender, instance, using, **kwargs):
    instance.deleted_listings = list(instance.providers.using(using).values_list("pk", flat=True))


def refresh_listings(sender, instance, using, **kwargs):
    Provider.objects.using(using).filter(pk__in=instance.deleted_listings).refresh_indexed_text()


for model in [Organization, *TERM_MODELS]:
    pre_delete.connect(remember_listings, sender=model, dispatch_uid=f"deleted-listings-{model.__name__}")
    post_delete.connect(refresh_listings, sender=model, dispatch_uid=f"deleted-indexed-text-{model.__name__}")

pre_create_historical_record.connect(fill_history_extras, sender=Provider.history.model, dispatch_uid="history-extras")
