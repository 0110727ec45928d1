from django.urls import path  # noqa: F401

from tidings.recordings import views  # noqa: F401

app_name = "recordings"

urlpatterns = [
    # --- Upload protocol and media.
    # --- Player, moments, viewers.
    # --- Library and collections.
]
