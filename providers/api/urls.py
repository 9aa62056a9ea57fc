from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from providers.api import hsds_views, views
from providers.models import CareSetting, EntryRoute, Language, Medication, Modality, PaymentOption, Population


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI that hands out no CSRF token, so the docs set no cookie, as the rest of the API.

    Its start-up script renders {{ csrf_token }} for the header it adds to requests other than GET,
    and rendering the token sets a year-long csrftoken cookie. The API only reads (GET, HEAD,
    OPTIONS), which needs no token: an empty one is rendered instead.
    """

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["csrf_token"] = ""
        return response


router = SimpleRouter()
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("countries", views.CountryViewSet, basename="country")
for prefix, model in (
    ("modalities", Modality),
    ("care-settings", CareSetting),
    ("entry-routes", EntryRoute),
    ("medications", Medication),
    ("payment-options", PaymentOption),
    ("populations", Population),
    ("languages", Language),
):
    router.register(prefix, views.term_viewset(model), basename=model._meta.model_name)

app_name = "api"

urlpatterns = [
    path("v1/", include(router.urls)),
    # Open Referral HSDS 3.0, read-only (see providers/api/hsds_views.py).
    path("hsds/", hsds_views.RootView.as_view(), name="hsds-root"),
    path("hsds/services", hsds_views.ServiceListView.as_view(), name="hsds-services"),
    path("hsds/services/<str:identifier>", hsds_views.ServiceDetailView.as_view(), name="hsds-service"),
    path("hsds/service_at_locations", hsds_views.ServiceAtLocationListView.as_view(), name="hsds-service-at-locations"),
    path(
        "hsds/service_at_locations/<str:identifier>",
        hsds_views.ServiceAtLocationDetailView.as_view(),
        name="hsds-service-at-location",
    ),
    path("hsds/organizations", hsds_views.OrganizationListView.as_view(), name="hsds-organizations"),
    path("hsds/organizations/<str:identifier>", hsds_views.OrganizationDetailView.as_view(), name="hsds-organization"),
    path("hsds/taxonomies", hsds_views.TaxonomyListView.as_view(), name="hsds-taxonomies"),
    path("hsds/taxonomies/<str:identifier>", hsds_views.TaxonomyDetailView.as_view(), name="hsds-taxonomy"),
    path("hsds/taxonomy_terms", hsds_views.TaxonomyTermListView.as_view(), name="hsds-taxonomy-terms"),
    path(
        "hsds/taxonomy_terms/<str:identifier>", hsds_views.TaxonomyTermDetailView.as_view(), name="hsds-taxonomy-term"
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from this URL instead of inline, so scripts
    # stay 'self'. Its page still carries a small inline <style> block: allowed here and nowhere else.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(DocsView.as_view(url_name="api:schema")),
        name="docs",
    ),
]
