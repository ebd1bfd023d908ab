"""The local stand-in model: the one part of the course that is not a real component.

No real generative model can run offline on a laptop in milliseconds, deterministically, so
the course ships this stand-in. It ranks sentences rather than generating text, and behaves
like a hosted model where the lessons need it to (``docs/local-model.md`` is its contract):
grounded answers with citations, refusals, stale memory, prompt injection, JSON schemas, tool
calls, a judge with a length bias, seeded faults, real token counts.

It reaches the production library only as a provider: :mod:`~course_lib.standin.provider`
registers ``local`` (in process) and ``local-server`` (over HTTP) with
:func:`course_lib.llm.register_provider`, so ``course_lib.llm`` names no concrete model.

>>> from course_lib.standin import local_client, shared_server
>>> local_client().chat("When is the on-call handover?").content     # in process
>>> shared_server().base_url                                          # any OpenAI client

Importing this package is cheap: each name loads its module on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course_lib._lazy import lazy_exports

if TYPE_CHECKING:
    from course_lib.standin.capacity import ServerCapacity, ServerLimits
    from course_lib.standin.errors import InvalidRequestError, ServerStartError
    from course_lib.standin.faults import Fault, FaultPlan
    from course_lib.standin.model import LocalModel, stream_chunks
    from course_lib.standin.provider import LocalProvider, local_client, local_server_provider
    from course_lib.standin.server import ModelServer, create_app, serve_model, shared_server
    from course_lib.standin.tokens import count_tokens, truncate_to_tokens

_EXPORTS = {
    "ServerCapacity": "course_lib.standin.capacity",
    "ServerLimits": "course_lib.standin.capacity",
    "InvalidRequestError": "course_lib.standin.errors",
    "ServerStartError": "course_lib.standin.errors",
    "Fault": "course_lib.standin.faults",
    "FaultPlan": "course_lib.standin.faults",
    "LocalModel": "course_lib.standin.model",
    "stream_chunks": "course_lib.standin.model",
    "LocalProvider": "course_lib.standin.provider",
    "local_client": "course_lib.standin.provider",
    "local_server_provider": "course_lib.standin.provider",
    "ModelServer": "course_lib.standin.server",
    "create_app": "course_lib.standin.server",
    "serve_model": "course_lib.standin.server",
    "shared_server": "course_lib.standin.server",
    "count_tokens": "course_lib.standin.tokens",
    "truncate_to_tokens": "course_lib.standin.tokens",
}

__all__ = [
    "Fault",
    "FaultPlan",
    "InvalidRequestError",
    "LocalModel",
    "LocalProvider",
    "ModelServer",
    "ServerCapacity",
    "ServerLimits",
    "ServerStartError",
    "count_tokens",
    "create_app",
    "local_client",
    "local_server_provider",
    "serve_model",
    "shared_server",
    "stream_chunks",
    "truncate_to_tokens",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
