"""Composites through the compositor worker (CONTRACT §4-§6): the signed HTTP client, the
composite jobs built from source bundles (pure), job tokens, the service that dispatches,
follows and settles them (charge only on a verified output), and the reconciling watcher."""
