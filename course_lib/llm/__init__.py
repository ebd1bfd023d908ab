"""Model calls: the model registry, the local stand-in model, its server, and the client."""

from course_lib.llm.registry import ModelRegistry, ModelSpec, get_registry, load_registry

__all__ = ["ModelRegistry", "ModelSpec", "get_registry", "load_registry"]
