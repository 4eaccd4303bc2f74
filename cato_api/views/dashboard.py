"""The built-in dashboard page: the snapshot and the live feed, for a logged-in user."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@login_required
def dashboard(request):
    return render(request, "cato_api/dashboard.html")
