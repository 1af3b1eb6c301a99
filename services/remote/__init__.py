"""Remote actors, keys and objects: fetched (signed, through the SSRF-safe client), parsed, and
cached as rows. The one place conversion into our models happens, with ``activitypub/parse``."""
