"""Small builders for thread tests; they go through the actions like the product does."""

import io

from PIL import Image

from tidings.threads import actions


def thread_in(space, author, title="Quarterly plan", body="Opening words", kind="discussion"):
    return actions.post_thread(author, space, kind=kind, title=title, body=body)


def reply_to(thread, author, body="A reply"):
    return actions.post_reply(author, thread, body=body)


def png_bytes() -> bytes:
    """A tiny real PNG, for uploads that must be recognised as pictures."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()
