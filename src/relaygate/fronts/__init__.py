"""HTTP routers, one per client API: decode → pipeline → encode. Thin by design."""
