from django.urls import path

from tidings.threads import views

app_name = "threads"

workspace = "w/<slug:workspace>/"
space = workspace + "s/<slug:space>/"
thread = "t/<int:thread_id>/"
reply = thread + "r/<int:reply_id>/"

urlpatterns = [
    path("settings/delivery/spaces", views.space_levels, name="space-levels"),
    path(workspace, views.workspace_home, name="workspace"),
    path(workspace + "spaces/new", views.space_new, name="space-new"),
    path(workspace + "decisions", views.decisions, name="decisions"),
    path(space, views.space_page, name="space"),
    path(space + "new", views.thread_new, name="thread-new"),
    path(space + "manage", views.space_manage, name="space-manage"),
    path(space + "archive", views.space_archive, name="space-archive"),
    path(space + "level", views.space_level, name="space-level"),
    path(space + "decisions", views.decisions, name="space-decisions"),
    path(space + "mentions", views.space_mention_search, name="space-mentions"),
    path(thread, views.thread_page, name="thread"),
    path(thread + "reply", views.reply_post, name="reply"),
    path(thread + "updates", views.thread_updates, name="updates"),
    path(thread + "mentions", views.mention_search, name="mentions"),
    path(thread + "actions", views.post_actions, name="thread-actions"),
    path(thread + "edit", views.thread_edit, name="thread-edit"),
    path(thread + "delete", views.thread_delete, name="thread-delete"),
    path(thread + "history", views.thread_history, name="thread-history"),
    path(thread + "react", views.react, name="react"),
    path(thread + "resolve", views.resolve, name="resolve"),
    path(thread + "reopen", views.reopen, name="reopen"),
    path(thread + "follow", views.follow, name="follow"),
    path(reply, views.post_actions, name="reply-actions"),
    path(reply + "edit", views.reply_edit, name="reply-edit"),
    path(reply + "delete", views.reply_delete, name="reply-delete"),
    path(reply + "history", views.reply_history, name="reply-history"),
    path("files/<str:token>/<str:name>", views.attachment_file, name="file"),
]
