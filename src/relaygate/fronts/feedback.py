"""`POST /v1/feedback {request_id, score, comment?}`: a user's score of a call, counted
against the prompt version that filled it (`/admin/usage?group_by=prompt_version`)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from relaygate.fronts.common import authenticate, context_of, gateway_of, read_json_object
from relaygate.translate.validation import validate_wire


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1, max_length=100)
    score: float = Field(ge=-1_000_000, le=1_000_000)
    comment: str | None = Field(default=None, max_length=4000)

    @field_validator("score")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


async def post_feedback(request: Request) -> JSONResponse:
    gateway = gateway_of(request)
    principal = await authenticate(request, gateway, context_of(request))
    _, raw = await read_json_object(request, gateway)
    body = validate_wire(FeedbackBody, raw)
    store = await gateway.prompt_store()
    feedback_id = await store.add_feedback(body.request_id, principal.tenant, body.score,
                                           body.comment)
    return JSONResponse({"id": feedback_id, "object": "feedback", "request_id": body.request_id,
                         "score": body.score, "comment": body.comment}, status_code=201)
