"""HTTP plumbing shared by every resource: bodies, errors, middleware, listing."""
