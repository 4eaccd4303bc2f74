"""Reads for CATO: the live feed, the snapshot graph, agent details."""

from cato_api.selectors.feed import feed_events_after, feed_last_id

__all__ = ["feed_events_after", "feed_last_id"]
