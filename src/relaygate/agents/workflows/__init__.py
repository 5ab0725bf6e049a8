"""Workflows: DAGs of agent, model, tool, map, condition and wait steps."""
