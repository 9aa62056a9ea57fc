from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from directory import health, views
from providers import choose as choose_views
from providers import saved_lists
from providers import views as provider_views

admin.site.site_header = "Treatment directory — curation"
admin.site.site_title = "Treatment directory curation"
admin.site.index_title = "Listings and vocabularies"

handler400 = "directory.views.bad_request"

urlpatterns = [
    # Before admin.site.urls, whose provider pages would take "duplicates" for a provider id.
    path("admin/providers/provider/duplicates/", include("providers.admin.duplicates")),
    path("admin/", admin.site.urls),
    path("api/", include("providers.api.urls")),
    # For load balancers: answers 503 when a database is unreachable (a cache outage is "degraded", 200).
    path("healthz", health.healthz, name="healthz"),
]

# The public pages in every language: English unprefixed, the others under /es/, /fr/, ...
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("crisis-lines/", views.crisis_lines, name="crisis_lines"),
    path("choose/", choose_views.choose, name="choose"),
    path("providers/", include("providers.urls")),
    path("suggest/", provider_views.suggest_provider, name="suggest_provider"),
    path("suggest/thanks/", provider_views.thanks, name="suggestion_thanks"),
    path("list/", saved_lists.saved_list, name="saved_list"),
    prefix_default_language=False,
)
