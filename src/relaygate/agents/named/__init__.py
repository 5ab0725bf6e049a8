"""Named agents: a model, instructions and tools under a name, run as sessions."""
