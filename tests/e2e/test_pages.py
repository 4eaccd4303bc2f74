"""The pages, in a real browser against a real Daphne with DEBUG off: they look right, work
offline and load nothing from another host."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.server import manage, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "a-long-test-password-1"


def foreign_requests(page, server_url: str) -> list[str]:
    own = urlsplit(server_url).netloc
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url) if urlsplit(request.url).netloc not in (own, "") else None
        ),
    )
    return seen


def make_admin(server) -> None:
    environment = {**server.environment, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    manage(
        environment,
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "admin@example.invalid",
    )


def log_in(page, url: str) -> None:
    """Open ``url`` (it redirects to the login page) and log in as the admin user."""
    page.goto(url)
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_admin_is_styled_and_lists_milestones(tmp_path, page):
    with running_server(tmp_path, DEBUG="false") as server:
        make_admin(server)
        foreign = foreign_requests(page, server.url)
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

        log_in(page, f"{server.url}/admin/")
        page.wait_for_selector("#site-name")
        # The admin's own stylesheet was served (WhiteNoise) and applied.
        header_colour = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
        assert header_colour not in ("rgba(0, 0, 0, 0)", "transparent")
        assert page.locator("text=Milestones").count() >= 1
        assert page.locator("text=API keys").count() >= 1

        page.goto(f"{server.url}/admin/telemetry/milestone/")
        page.wait_for_selector("#changelist")
        assert failed == []
        assert foreign == []
        page.screenshot(path=str(tmp_path / "admin.png"))


def test_api_docs_page_renders_every_route_offline(tmp_path, page):
    with running_server(tmp_path, DEBUG="false") as server:
        foreign = foreign_requests(page, server.url)
        page.goto(f"{server.url}/api/docs/")
        page.wait_for_selector(".opblock", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        flat = " ".join(paths).replace("\u200b", "")
        for route in ("/health", "/api/telemetry/milestones/", "/api/cato/metrics/journey"):
            assert route in flat
        assert foreign == []


def test_dashboard_shows_the_snapshot_and_the_live_feed(tmp_path, page):
    """Logged in, the dashboard lists the agents and shows events as they are posted."""
    import httpx

    with running_server(tmp_path, DEBUG="false") as server:
        make_admin(server)
        key = manage(server.environment, "create_api_key", "dashboard").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {key}"}

        def post(event_type, **data):
            response = httpx.post(
                f"{server.url}/api/cato/events/",
                headers=headers,
                json={"event_type": event_type, "event_data": data},
            )
            assert response.status_code == 201, response.text

        post("agent_registered", agent_id="agent-ui", name="Interface agent", role="frontend")
        foreign = foreign_requests(page, server.url)
        log_in(page, f"{server.url}/")
        page.wait_for_selector("text=Interface agent")
        page.wait_for_selector("#feed-state.live")
        assert page.inner_text("#m-agents") == "1"

        post("agent_status_changed", agent_id="agent-ui", status="idle")
        page.wait_for_selector("#events li[data-event-type=agent_status_changed]")
        page.wait_for_function("document.querySelector('#agents .status').textContent === 'idle'")
        assert foreign == []
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
