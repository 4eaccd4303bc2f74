from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from marcus_site.health import HealthView

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("api/telemetry/", include("telemetry.urls")),
    path("api/research/", include("research.urls")),
    path("api/cato/", include("cato_api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
]

handler400 = "marcus_site.errors.bad_request"
handler404 = "marcus_site.errors.not_found"
handler500 = "marcus_site.errors.server_error"
