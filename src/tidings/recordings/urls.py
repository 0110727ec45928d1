from django.urls import path, re_path

from tidings.recordings import views

app_name = "recordings"
# Recording tokens are 32 hex digits, so other addresses under recordings/ never match them.
RECORDING = r"recordings/(?P<token>[0-9a-f]{32})"

urlpatterns = [
    # --- Upload protocol and media.
    path("recordings/start", views.recording_start, name="start"),
    re_path(rf"^{RECORDING}$", views.recording_discard, name="discard"),
    re_path(rf"^{RECORDING}/chunks$", views.recording_chunks, name="chunks"),
    re_path(rf"^{RECORDING}/chunks/(?P<index>[0-9]{{1,9}})$", views.recording_chunk, name="chunk"),
    re_path(rf"^{RECORDING}/status$", views.recording_status_view, name="status"),
    re_path(rf"^{RECORDING}/post$", views.recording_post, name="post"),
    path("media/r/<str:signed>/<str:filename>", views.media_file, name="media"),
    # --- Watching and viewers.
    re_path(rf"^{RECORDING}/viewed$", views.recording_viewed, name="viewed"),
    re_path(rf"^{RECORDING}/viewers$", views.recording_viewers, name="viewers"),
    # --- Library and collections.
    path("w/<slug:workspace>/library/", views.library, name="library"),
    path(
        "w/<slug:workspace>/library/<str:token>/rename",
        views.library_rename,
        name="library-rename",
    ),
    path(
        "w/<slug:workspace>/library/<str:token>/post",
        views.unfinished_post,
        name="unfinished-post",
    ),
    path(
        "w/<slug:workspace>/library/<str:token>/discard",
        views.unfinished_discard,
        name="unfinished-discard",
    ),
    path(
        "w/<slug:workspace>/library/<str:token>/collect",
        views.collection_add,
        name="collection-add",
    ),
    path("w/<slug:workspace>/collections/", views.collections_page, name="collections"),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/",
        views.collection_page,
        name="collection",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/edit",
        views.collection_edit,
        name="collection-edit",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/share",
        views.collection_share,
        name="collection-share",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/delete",
        views.collection_delete,
        name="collection-delete",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/items/<str:token>/move",
        views.collection_move,
        name="collection-move",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/items/<str:token>/remove",
        views.collection_remove,
        name="collection-remove",
    ),
]
