"""Token counting, all in one place: exact OpenAI counts (`tokenizer`), documented
approximations for Claude and Gemini (`estimate`), and the stream output counter that
fills in usage when an upstream reports none (`stream_counter`)."""
