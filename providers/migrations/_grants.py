"""Giving the Curators group permissions from a migration: one operation, shared by the migrations
that do it (Django's migration loader skips modules whose names start with an underscore)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Curators"


def curators_may(*codenames):
    """A RunPython operation giving the Curators group these providers permissions; reversed, it takes them back."""

    def grant(apps, schema_editor):
        # Permissions are normally created after all migrations run; create them now so the group can hold them.
        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
        Group = apps.get_model("auth", "Group")
        group, _ = Group.objects.get_or_create(name=GROUP)
        group.permissions.add(*_permissions(apps, codenames))

    def revoke(apps, schema_editor):
        permissions = _permissions(apps, codenames)
        for group in apps.get_model("auth", "Group").objects.filter(name=GROUP):
            group.permissions.remove(*permissions)

    return migrations.RunPython(grant, revoke)


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="providers", codename__in=codenames)
