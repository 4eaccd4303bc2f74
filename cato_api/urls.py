from django.urls import path

from cato_api.views import events, metrics, state, stream

app_name = "cato_api"

urlpatterns = [
    path("metrics/journey", metrics.JourneyMetricsView.as_view(), name="metrics-journey"),
    path("metrics/research", metrics.ResearchMetricsView.as_view(), name="metrics-research"),
    path("snapshot", state.SnapshotView.as_view(), name="snapshot"),
    path("agent/<str:agent_id>", state.AgentDetailView.as_view(), name="agent"),
    path("events/", events.SystemEventsView.as_view(), name="events"),
    path("events/subscribers", events.SubscribersView.as_view(), name="subscribers"),
    path("events/stream", stream.event_stream, name="event-stream"),
]
