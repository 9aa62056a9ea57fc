"""Create the Partner importers group, and let curators edit opening hours.

Partner importers add, change and view listings and import files; the admin
narrows them to the sources they are a partner user of (providers.admin.roles).
They may view organizations, to pick one for a listing, but change none, and get
nothing on vocabularies, sources, suggestions or accounts. Both roles edit a
listing's opening hours, which its form holds inline and 0003 left out;
removing an opening time is part of editing a listing, not deleting one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PARTNERS = "Partner importers"
CURATORS = "Curators"
OPENING_HOURS = (
    "add_openinginterval",
    "change_openinginterval",
    "delete_openinginterval",
    "view_openinginterval",
)
PARTNER_CODENAMES = (
    "add_provider",
    "change_provider",
    "view_provider",
    *OPENING_HOURS,
    "add_importrun",
    "view_importrun",
    "view_organization",
)


def _permissions(apps, codenames):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="providers", codename__in=codenames
    )


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations run; create them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    partners, _ = Group.objects.get_or_create(name=PARTNERS)
    partners.permissions.add(*_permissions(apps, PARTNER_CODENAMES))
    curators, _ = Group.objects.get_or_create(name=CURATORS)
    curators.permissions.add(*_permissions(apps, OPENING_HOURS))


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=PARTNERS).delete()
    for curators in Group.objects.filter(name=CURATORS):
        curators.permissions.remove(*_permissions(apps, OPENING_HOURS))


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0010_curators_moderate_suggestions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
