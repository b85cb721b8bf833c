"""The dashboard's app-session side (CONTRACT §5): sessions and CSRF, the session principal,
source bundles with their audio configuration, and captions. Composites are in
``api.compositing``; the routes in ``api.routes``."""
