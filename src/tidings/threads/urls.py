from django.urls import path

from tidings.threads import views

app_name = "threads"
# The space and thread pages themselves are in tidings.pages (they show what other apps add);
# the root URL conf serves them under this namespace too.

WORKSPACE = "w/<slug:workspace>/"
SPACE = WORKSPACE + "s/<slug:space>/"
THREAD = "t/<int:thread_id>/"
REPLY = THREAD + "r/<int:reply_id>/"

urlpatterns = [
    path("settings/delivery/spaces", views.space_levels, name="space-levels"),
    path(WORKSPACE + "spaces/new", views.space_new, name="space-new"),
    path(WORKSPACE + "decisions", views.decisions, name="decisions"),
    path(SPACE + "archive", views.space_archive, name="space-archive"),
    path(SPACE + "level", views.space_level, name="space-level"),
    path(SPACE + "decisions", views.decisions, name="space-decisions"),
    path(SPACE + "mentions", views.space_mention_search, name="space-mentions"),
    path(THREAD + "mentions", views.mention_search, name="mentions"),
    path(THREAD + "edit", views.thread_edit, name="thread-edit"),
    path(THREAD + "delete", views.thread_delete, name="thread-delete"),
    path(THREAD + "history", views.thread_history, name="thread-history"),
    path(THREAD + "reopen", views.reopen, name="reopen"),
    path(THREAD + "follow", views.follow, name="follow"),
    path(REPLY + "edit", views.reply_edit, name="reply-edit"),
    path(REPLY + "delete", views.reply_delete, name="reply-delete"),
    path(REPLY + "history", views.reply_history, name="reply-history"),
    path("files/<str:token>/<str:name>", views.attachment_file, name="file"),
]
