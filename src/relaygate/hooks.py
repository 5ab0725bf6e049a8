"""What a hook module needs (docs/hooks.md): the values hooks receive, and `Refused`.

    from relaygate.hooks import Call, Outcome, Refused

    def check(call: Call) -> None:
        if call.model.startswith("gpt-4") and call.principal.tenant == "trial":
            raise Refused(403, "Trial tenants may not use gpt-4 models.")
"""

from relaygate.errors import Refused
from relaygate.pipeline.auth import Principal
from relaygate.pipeline.call import Call, Endpoint
from relaygate.pipeline.outcome import Outcome

__all__ = ["Call", "Endpoint", "Outcome", "Principal", "Refused"]
