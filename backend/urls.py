from django.urls import path

from backend import views

app_name = "backend"

urlpatterns = [
    path("telemetry/batch", views.TelemetryBatchView.as_view(), name="batch"),
    path("metrics/aggregate", views.AggregateView.as_view(), name="aggregate"),
    path("metrics/installations", views.InstallationsView.as_view(), name="installations"),
    path("privacy", views.PrivacyPolicyView.as_view(), name="privacy"),
    path(
        "installations/<str:installation_id>",
        views.InstallationView.as_view(),
        name="installation",
    ),
]
