"""Rate limits: requests and tokens per minute, tokens per day and calls in flight, per key,
tenant and model; in-process, or shared by every instance through Redis."""
