"""Let curators work the queue of suggestions from the public: read them, and accept or reject them.

Accepting and rejecting need change_suggestion; nobody adds suggestions in the
admin (they come from the public site), and deleting stays with administrators.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Curators"
CODENAMES = ("view_suggestion", "change_suggestion")


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations run; create them now so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="providers", codename__in=CODENAMES))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="providers", codename__in=CODENAMES)
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0009_curation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
