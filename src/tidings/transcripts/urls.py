from django.urls import re_path

from tidings.recordings.urls import RECORDING
from tidings.transcripts import player, views

app_name = "transcripts"

urlpatterns = [
    re_path(rf"^{RECORDING}/player$", player.player_status, name="player"),
    re_path(rf"^{RECORDING}/transcript$", views.panel, name="panel"),
    re_path(rf"^{RECORDING}/transcript/words$", views.correct, name="correct"),
    re_path(rf"^{RECORDING}/transcript/retry$", views.retry, name="retry"),
    re_path(
        rf"^{RECORDING}/transcript/items/(?P<item_id>[0-9]{{1,12}})$", views.decide, name="decide"
    ),
    re_path(
        rf"^{RECORDING}/transcript\.(?P<fmt>vtt|srt|txt)$", views.caption_file, name="captions"
    ),
]
