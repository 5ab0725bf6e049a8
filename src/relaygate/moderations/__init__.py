"""`/v1/moderations`: relayed to an OpenAI provider through the pipeline, or offline."""
