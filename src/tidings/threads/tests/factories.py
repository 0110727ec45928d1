"""Small builders for thread tests; they go through the actions like the product does."""

from tidings.threads import actions


def thread_in(space, author, title="Quarterly plan", body="Opening words", kind="discussion"):
    return actions.post_thread(author, space, kind=kind, title=title, body=body)


def reply_to(thread, author, body="A reply"):
    return actions.post_reply(author, thread, body=body)
