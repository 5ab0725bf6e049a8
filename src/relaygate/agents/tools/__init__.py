"""Tools the gateway runs for a model: registry, policy, argument checks, execution."""
