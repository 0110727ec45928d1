from django.urls import path, re_path

from tidings.recordings.views import library, media

app_name = "recordings"
# Recording tokens are 32 hex digits, so other addresses under recordings/ never match them.
RECORDING = r"recordings/(?P<token>[0-9a-f]{32})"

urlpatterns = [
    # --- Media.
    path("media/r/<str:signed>/<str:filename>", media.media_file, name="media"),
    # --- Watching and viewers.
    re_path(rf"^{RECORDING}/viewed$", media.recording_viewed, name="viewed"),
    re_path(rf"^{RECORDING}/viewers$", media.recording_viewers, name="viewers"),
    # --- Library and collections.
    path("w/<slug:workspace>/library/", library.library, name="library"),
    path(
        "w/<slug:workspace>/library/<str:token>/rename",
        library.library_rename,
        name="library-rename",
    ),
    path(
        "w/<slug:workspace>/library/<str:token>/post",
        library.unfinished_post,
        name="unfinished-post",
    ),
    path(
        "w/<slug:workspace>/library/<str:token>/discard",
        library.unfinished_discard,
        name="unfinished-discard",
    ),
    path(
        "w/<slug:workspace>/library/<str:token>/collect",
        library.collection_add,
        name="collection-add",
    ),
    path("w/<slug:workspace>/collections/", library.collections_page, name="collections"),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/",
        library.collection_page,
        name="collection",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/edit",
        library.collection_edit,
        name="collection-edit",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/share",
        library.collection_share,
        name="collection-share",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/delete",
        library.collection_delete,
        name="collection-delete",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/items/<str:token>/move",
        library.collection_move,
        name="collection-move",
    ),
    path(
        "w/<slug:workspace>/collections/<int:collection_id>/items/<str:token>/remove",
        library.collection_remove,
        name="collection-remove",
    ),
]
