from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Treatment directory"

    def ready(self):
        # Connects the receivers (see the module): imported once the models are.
        from providers import signals  # noqa: F401

        post_migrate.connect(gather_statistics, sender=self, dispatch_uid="planner-statistics")


def gather_statistics(sender, using, **kwargs):
    """A migration that rebuilds a table on SQLite drops its planner statistics: gather them again."""
    from providers.search.planner_statistics import ensure_statistics

    ensure_statistics(connections[using])
