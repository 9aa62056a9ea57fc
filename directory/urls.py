from django.contrib import admin
from django.urls import include, path

from directory import views

admin.site.site_header = "Treatment directory — curation"
admin.site.site_title = "Treatment directory curation"
admin.site.index_title = "Listings and vocabularies"

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("providers/", include("providers.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("providers.api.urls")),
]
