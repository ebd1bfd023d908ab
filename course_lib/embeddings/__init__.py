"""Embedding models: the bundled WordLlama default, loaded offline."""

from course_lib.embeddings.wordllama_model import load_wordllama

__all__ = ["load_wordllama"]
