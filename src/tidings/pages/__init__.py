"""Pages that show what several apps add to one screen (a space, a thread): above every app,
beside the URL conf and the event table, so no app reaches up to draw them."""
