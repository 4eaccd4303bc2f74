from django.urls import path

from telemetry import views

app_name = "telemetry"

urlpatterns = [
    path("milestones/", views.MilestoneListCreateView.as_view(), name="milestones"),
    path(
        "milestones/<str:milestone_id>/complete/",
        views.MilestoneCompleteView.as_view(),
        name="milestone-complete",
    ),
    path(
        "milestones/<str:milestone_id>/fail/",
        views.MilestoneFailView.as_view(),
        name="milestone-fail",
    ),
    path("funnel/", views.FunnelView.as_view(), name="funnel"),
]
