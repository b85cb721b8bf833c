"""Route modules: one concept each (v1 video, media links, meta)."""
