"""Create the Curators group: add, change and view directory records, nothing else.

Deleting listings is left to administrators (curators archive instead), and no
auth permission is granted, so curators cannot manage users or groups.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Curators"
ACTIONS = ("add", "change", "view")
MODELS = (
    "provider",
    "organization",
    "source",
    "modality",
    "caresetting",
    "medication",
    "paymentoption",
    "population",
    "language",
)


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations run; create them now so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    codenames = [f"{action}_{model}" for action in ACTIONS for model in MODELS]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="providers", codename__in=codenames))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0002_initial_taxonomy"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
