from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_delete, pre_save
from simple_history.signals import pre_create_historical_record


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Treatment directory"

    def ready(self):
        from providers import term_tokens, vocabulary
        from providers.freshness import listings_changed
        from providers.history import fill_history_extras
        from providers.models.crisis_line import forget_crisis_lines
        from providers.models import (
            TAXONOMY_FIELDS,
            CrisisLine,
            OpeningInterval,
            Organization,
            Provider,
            Source,
        )

        # Everything the public pages show: search choices and stored pages are rebuilt when it changes.
        terms = [Provider._meta.get_field(field).related_model for field in TAXONOMY_FIELDS.values()]
        for model in [Provider, Organization, OpeningInterval, Source, CrisisLine, *terms]:
            post_save.connect(listings_changed, sender=model, dispatch_uid=f"listings-save-{model.__name__}")
            post_delete.connect(listings_changed, sender=model, dispatch_uid=f"listings-delete-{model.__name__}")
        for field in TAXONOMY_FIELDS.values():
            through = Provider._meta.get_field(field).remote_field.through
            m2m_changed.connect(listings_changed, sender=through, dispatch_uid=f"listings-terms-{field}")
            m2m_changed.connect(term_tokens.terms_changed, sender=through, dispatch_uid=f"term-tokens-{field}")
        for model in terms:
            name = model.__name__
            post_save.connect(vocabulary.forget_vocabulary, sender=model, dispatch_uid=f"vocabulary-save-{name}")
            post_delete.connect(vocabulary.forget_vocabulary, sender=model, dispatch_uid=f"vocabulary-delete-{name}")
        post_save.connect(forget_crisis_lines, sender=CrisisLine, dispatch_uid="crisis-lines-save")
        post_delete.connect(forget_crisis_lines, sender=CrisisLine, dispatch_uid="crisis-lines-delete")

        # A signal rather than save(): loaddata saves raw, and partners' fixtures need ids too.
        for model in (Provider, Organization):
            pre_save.connect(assign_hsds_ids, sender=model, dispatch_uid=f"hsds-ids-{model.__name__}")
        # The same for the words keyword search looks through and the country's token: fixtures do not carry them.
        pre_save.connect(fill_indexed_text, sender=Provider, dispatch_uid="search-text")
        post_migrate.connect(restore_after_migrate, sender=self, dispatch_uid="search-index")
        for model in [Organization, *terms]:
            name = model.__name__
            pre_delete.connect(remember_listings, sender=model, dispatch_uid=f"deleted-listings-{name}")
            post_delete.connect(refresh_listings, sender=model, dispatch_uid=f"deleted-indexed-text-{name}")

        # The channel, terms and hours of each version django-simple-history records.
        history = Provider.history.model
        pre_create_historical_record.connect(fill_history_extras, sender=history, dispatch_uid="history-extras")


def assign_hsds_ids(sender, instance, **kwargs):
    instance.assign_hsds_ids()


def fill_indexed_text(sender, instance, **kwargs):
    from providers.term_tokens import with_country

    instance.search_text = instance.listing_text()
    instance.term_tokens = with_country(instance.term_tokens, instance.country)


# Deleting an organisation or a term unlinks its listings by an UPDATE (SET_NULL) or a cascade, which
# sends no signal to them and would leave its name in their search text or its token in their term
# tokens: these two receivers refresh both.
def remember_listings(sender, instance, using, **kwargs):
    instance.deleted_listings = list(instance.providers.using(using).values_list("pk", flat=True))


def refresh_listings(sender, instance, using, **kwargs):
    instance.providers.model.objects.using(using).filter(pk__in=instance.deleted_listings).refresh_indexed_text()


def restore_after_migrate(sender, using, **kwargs):
    """What a migration may have dropped with a rebuilt table: the full-text indexes, SQLite's statistics."""
    from providers.search_index import ensure_search_index
    from providers.statistics import ensure_statistics

    ensure_search_index(connections[using])
    ensure_statistics(connections[using])
