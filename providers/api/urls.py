from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from providers.api import views
from providers.models import CareSetting, Language, Medication, Modality, PaymentOption, Population

router = SimpleRouter()
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("countries", views.CountryViewSet, basename="country")
for prefix, model in (
    ("modalities", Modality),
    ("care-settings", CareSetting),
    ("medications", Medication),
    ("payment-options", PaymentOption),
    ("populations", Population),
    ("languages", Language),
):
    router.register(prefix, views.term_viewset(model), basename=model._meta.model_name)

app_name = "api"

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
