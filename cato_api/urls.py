from django.urls import path

from cato_api import views

app_name = "cato_api"

urlpatterns = [
    path("metrics/journey", views.JourneyMetricsView.as_view(), name="metrics-journey"),
    path("metrics/research", views.ResearchMetricsView.as_view(), name="metrics-research"),
]
