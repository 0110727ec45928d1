"""Pages of recordings, by topic: media and viewers, the library and collections. The
recorder talks to the API (recordings.api)."""
