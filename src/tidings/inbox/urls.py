from django.urls import path

from tidings.inbox import views

app_name = "inbox"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/count", views.count, name="count"),
    path("inbox/<int:item_id>/done", views.item_action, {"action": "done"}, name="done"),
    path("inbox/<int:item_id>/undone", views.item_action, {"action": "undone"}, name="undone"),
    path("inbox/<int:item_id>/snooze", views.item_action, {"action": "snooze"}, name="snooze"),
    path(
        "inbox/<int:item_id>/unsnooze", views.item_action, {"action": "unsnooze"}, name="unsnooze"
    ),
    path("inbox/<int:item_id>/read", views.item_action, {"action": "read"}, name="read"),
]
