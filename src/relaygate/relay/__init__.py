"""The byte relay (fast path): a front and a provider that speak the same wire format.

One module per format holds what the relay must know of it: how to check and adjust the
client's body, how to find the usage in the reply and stream (counting it when the
upstream sent none), how to check a stream is well formed, and its own error event.
`stream.relay_stream` drives every format's stream the same way.
"""
