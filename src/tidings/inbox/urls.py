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
    path("inbox/later", views.later, name="later"),
    path("inbox/remind", views.remind, name="remind"),
    path("inbox/reminders/<int:reminder_id>/cancel", views.reminder_cancel, name="reminder-cancel"),
    path("inbox/ask", views.ask, name="ask"),
    path("inbox/requests/<int:request_id>/cancel", views.request_cancel, name="request-cancel"),
    path(
        "inbox/requests/<int:recipient_id>/answered",
        views.request_answered,
        name="request-answered",
    ),
    path("t/<int:thread_id>/ask-people", views.ask_people, name="ask-people"),
    path("t/<int:thread_id>/schedule", views.schedule_reply, name="schedule-reply"),
    path(
        "w/<slug:workspace>/s/<slug:space>/schedule", views.schedule_thread, name="schedule-thread"
    ),
    path("inbox/scheduled/<int:scheduled_id>/", views.scheduled_edit, name="scheduled-edit"),
    path(
        "inbox/scheduled/<int:scheduled_id>/cancel",
        views.scheduled_cancel,
        name="scheduled-cancel",
    ),
]
