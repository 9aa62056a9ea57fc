"""What permissions cannot say about roles: partner importers work on their own sources only.

The roles (groups made by migrations; see docs/CURATORS.md):

- Curators: every listing, vocabulary, organization, source, import and suggestion; no accounts, no deleting.
- Partner importers: the listings of the sources whose ``partner_users`` they are in, and imports into
  those sources. Within them they are trusted as a curator is (edit, publish, archive, verify), as their
  imports already are; every change keeps who made it. They see the organizations of those listings
  and of published listings (public already, and theirs to attach a listing to), never one that only
  other sources' drafts or archived listings name. Membership limits an account even if it
  holds other roles too, so a partner account is never more than that by accident.
- Administrators are superusers: everything, accounts and roles included.

Permissions let partner importers add, change and view listings and imports at all; the mixins here
narrow that to their sources, in the admin's own hooks.
"""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.http import Http404

from providers.exchange.importer import organization_changes
from providers.models import Organization, Provider, Source

PARTNER_GROUP = "Partner importers"
# Only who may manage accounts may choose a source's partner importers: doing so grants access to its listings.
MANAGE_ACCOUNTS_PERMISSION = "auth.change_user"


def partner_source_ids(user):
    """The ids of the sources a partner importer works on; None for anyone whose role is not limited to sources."""
    # Asked several times for every admin page: kept on the user object, which lives for one request,
    # as Django's own permission cache is.
    if not hasattr(user, "_partner_source_ids"):
        if user.is_superuser or not user.groups.filter(name=PARTNER_GROUP).exists():
            user._partner_source_ids = None
        else:
            user._partner_source_ids = frozenset(user.partner_sources.values_list("pk", flat=True))
    return user._partner_source_ids


def partner_organizations(organizations, source_ids):
    """Those of ``organizations`` a partner importer of ``source_ids`` may see and attach a listing to."""
    listings = Provider.objects.filter(organization=OuterRef("pk"))
    return organizations.filter(Exists(listings.filter(source__in=source_ids)) | Exists(listings.published()))


def may_preview(user, provider):
    """Whether ``user`` may see ``provider``'s page while it is not public."""
    if not user.has_perm("providers.view_provider"):
        return False
    source_ids = partner_source_ids(user)
    return source_ids is None or provider.source_id in source_ids


class PartnerScopedAdmin:
    """An admin whose records a partner importer sees only some of: ``partner_queryset`` says which."""

    def partner_queryset(self, request, queryset, source_ids):
        # Subclasses say what a partner may see; until one does, nothing.
        return queryset.none()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        source_ids = partner_source_ids(request.user)
        return queryset if source_ids is None else self.partner_queryset(request, queryset, source_ids)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and partner_source_ids(request.user) is not None:
            # Django would send them to the index saying it may have been deleted; for a partner,
            # another source's record is simply not there.
            raise Http404
        return obj

    def get_list_filter(self, request):
        list_filter = super().get_list_filter(request)
        if partner_source_ids(request.user) is None:
            return list_filter
        # The plain source filter offers every source; a partner is offered those of their own records.
        return [("source", admin.RelatedOnlyFieldListFilter) if item == "source" else item for item in list_filter]


class PartnerListingsAdmin(PartnerScopedAdmin):
    """For the provider admin: a partner importer lists, opens, changes and adds listings of their own sources only."""

    def partner_queryset(self, request, queryset, source_ids):
        return queryset.filter(source__in=source_ids)

    def _is_partners_listing(self, request, obj):
        source_ids = partner_source_ids(request.user)
        if source_ids is None or obj is None:
            return True
        # The stored listing decides: a history page hands in an old version, whose source may have been theirs once.
        return obj.source_id in source_ids and Provider.objects.filter(pk=obj.pk, source__in=source_ids).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._is_partners_listing(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._is_partners_listing(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        source_ids = partner_source_ids(request.user)
        if db_field.name == "source" and source_ids is not None:
            kwargs["queryset"] = Source.objects.filter(pk__in=source_ids)
            kwargs["required"] = True
        if db_field.name == "organization" and source_ids is not None:
            kwargs["queryset"] = partner_organizations(Organization.objects.all(), source_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        source_ids = partner_source_ids(request.user)
        if source_ids is not None and len(source_ids) == 1:
            initial.setdefault("source", next(iter(source_ids)))
        return initial


class PartnerOrganizationsAdmin(PartnerScopedAdmin):
    """For the organization admin: a partner importer lists, opens and looks up only ``partner_organizations``."""

    def partner_queryset(self, request, queryset, source_ids):
        return partner_organizations(queryset, source_ids)


class PartnerImportsAdmin(PartnerScopedAdmin):
    """For the import runs admin: a partner importer sees the runs they started and imports into their sources only."""

    def partner_queryset(self, request, queryset, source_ids):
        return queryset.filter(started_by=request.user)

    def importable_sources(self, request):
        sources = Source.objects.order_by("slug")
        source_ids = partner_source_ids(request.user)
        return sources if source_ids is None else sources.filter(pk__in=source_ids)

    def import_refusal(self, request, file_name, records, source):
        """Why this user may not import ``records``, as (form field, message); None when they may.

        ``source`` is the slug chosen for every record, or empty when each record names its own.
        """
        source_ids = partner_source_ids(request.user)
        if source_ids is None:
            return None
        yours = sorted(Source.objects.filter(pk__in=source_ids).values_list("slug", flat=True))
        if not yours:
            return None, "You are not a partner of any source yet: ask an administrator to add you to yours."
        if source and source not in yours:
            return "source", f"You may import into your own sources only: {', '.join(yours)}."
        others = sorted({source or record.source for record in records} - set(yours) - {""})
        if others:
            return "file", (
                f"{file_name} has records of source(s) {', '.join(others)}; "
                f"you may import into your own sources only: {', '.join(yours)}."
            )
        changes = organization_changes(records)
        shared = sorted(
            set(
                Provider.objects.filter(organization__slug__in=changes)
                .exclude(source__in=source_ids)
                .values_list("organization__slug", flat=True)
            )
        )
        if shared:
            described = "; ".join(f"{slug} ({', '.join(changes[slug])})" for slug in shared)
            return "file", (
                f"{file_name} would change organization(s) that other sources' listings belong to: {described}. "
                "Give them as the directory has them, or ask a curator to change them."
            )
        return None


class SourcePartnersAdmin:
    """For the source admin: a source's partner importers are shown and chosen by account managers only."""

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or ())
        if not request.user.has_perm(MANAGE_ACCOUNTS_PERMISSION):
            exclude.append("partner_users")
        return exclude
