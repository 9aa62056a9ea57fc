from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from simple_history.signals import pre_create_historical_record


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Treatment directory"

    def ready(self):
        from providers.filters import forget_filter_choices
        from providers.history import fill_history_extras
        from providers.models.crisis_line import forget_crisis_lines
        from providers.models import TAXONOMY_FIELDS, CrisisLine, Organization, Provider

        # Search choices list the countries and languages of published listings and every term.
        changes = [Provider] + [Provider._meta.get_field(field).related_model for field in TAXONOMY_FIELDS.values()]
        for model in changes:
            post_save.connect(forget_filter_choices, sender=model, dispatch_uid=f"choices-save-{model.__name__}")
            post_delete.connect(forget_filter_choices, sender=model, dispatch_uid=f"choices-delete-{model.__name__}")
        m2m_changed.connect(forget_filter_choices, sender=Provider.languages.through, dispatch_uid="choices-languages")
        post_save.connect(forget_crisis_lines, sender=CrisisLine, dispatch_uid="crisis-lines-save")
        post_delete.connect(forget_crisis_lines, sender=CrisisLine, dispatch_uid="crisis-lines-delete")

        # A signal rather than save(): loaddata saves raw, and partners' fixtures need ids too.
        for model in (Provider, Organization):
            pre_save.connect(assign_hsds_ids, sender=model, dispatch_uid=f"hsds-ids-{model.__name__}")

        # The channel, terms and hours of each version django-simple-history records.
        history = Provider.history.model
        pre_create_historical_record.connect(fill_history_extras, sender=history, dispatch_uid="history-extras")


def assign_hsds_ids(sender, instance, **kwargs):
    instance.assign_hsds_ids()
