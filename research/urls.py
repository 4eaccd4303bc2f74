from django.urls import path

from research import views

app_name = "research"

urlpatterns = [
    path("events/", views.ResearchEventsView.as_view(), name="events"),
    path("events/export/", views.ResearchExportView.as_view(), name="export"),
]
