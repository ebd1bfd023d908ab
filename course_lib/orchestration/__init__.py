"""Workflows as explicit steps over a state, with checkpoints, resume, timeouts and retries."""
