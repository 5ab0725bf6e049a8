"""Image generation: `POST /v1/images/generations` in OpenAI's shape, through the pipeline;
images asked for as `url` are kept by the gateway per tenant for a while and served by it."""
