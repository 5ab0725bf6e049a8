"""Sessions: durable conversations with memory, token accounting, trimming, TTL and a live
event stream. `SessionService` (service.py) is the face every front uses."""
