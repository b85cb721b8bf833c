"""HTTP plumbing shared by the routes: request ids, JSON bodies, responses, authentication."""
