from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cato_api.views.dashboard import dashboard
from marcus_site.health import HealthView

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("api/telemetry/", include("telemetry.urls")),
    path("api/research/", include("research.urls")),
    path("api/cato/", include("cato_api.urls")),
    path("v1/", include("backend.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("dashboard/", dashboard, name="dashboard"),
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
]

admin.site.site_header = "Marcus telemetry & CATO administration"
admin.site.site_title = "Marcus admin"
admin.site.index_title = "Journeys, research events, the observed system, telemetry"

handler400 = "marcus_site.errors.bad_request"
handler404 = "marcus_site.errors.not_found"
handler500 = "marcus_site.errors.server_error"
