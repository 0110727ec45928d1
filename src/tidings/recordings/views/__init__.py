"""Pages and browser endpoints of recordings, by topic: the recorder's JSON endpoints, media and
viewers, the library and collections."""
