"""The Responses front (OpenResponses `/v1/responses`): `create` (plain, SSE, background),
`state` (retrieve/resume, delete, cancel, input items), `ws` (WebSocket mode), `compact`;
`engine` runs one response, `context` builds what it sees, `background` runs it as a
task that any instance can cancel."""
