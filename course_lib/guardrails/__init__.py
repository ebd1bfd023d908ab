"""Guardrails: checks on what goes into and comes out of the assistant, and on what its tools may do."""
