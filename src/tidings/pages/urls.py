"""Where the pages that gather several apps are served. Each keeps the URL name of the app
whose page it is (`threads:thread`, `threads:space`): the root URL conf adds these to that
app's namespace."""

from django.urls import path

from tidings.pages import threads
from tidings.threads.urls import REPLY, SPACE, THREAD, WORKSPACE

thread_pages = [
    path(WORKSPACE, threads.workspace_home, name="workspace"),
    path(SPACE, threads.space_page, name="space"),
    path(SPACE + "new", threads.thread_new, name="thread-new"),
    path(SPACE + "manage", threads.space_manage, name="space-manage"),
    path(THREAD, threads.thread_page, name="thread"),
    path(THREAD + "reply", threads.reply_post, name="reply"),
    path(THREAD + "updates", threads.thread_updates, name="updates"),
    path(THREAD + "actions", threads.post_actions, name="thread-actions"),
    path(THREAD + "react", threads.react, name="react"),
    path(THREAD + "resolve", threads.resolve, name="resolve"),
    path(REPLY, threads.post_actions, name="reply-actions"),
]
