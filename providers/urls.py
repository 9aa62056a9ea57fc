from django.urls import path

from providers import views

app_name = "providers"

urlpatterns = [
    path("", views.provider_list, name="list"),
    path("export.csv", views.provider_export, name="export"),
    # str, not slug: provider slugs may be Unicode.
    path("<str:slug>/", views.provider_detail, name="detail"),
    path("<str:slug>/suggest/", views.suggest_correction, name="suggest"),
]
