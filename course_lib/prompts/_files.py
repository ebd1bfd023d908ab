"""File handling shared by the prompt registry and its lock: discovery, YAML, atomic writes."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

# A prompt's folder name is its name; the pattern also keeps names from escaping the library
# folder ("../x") when they come from a request or a setting.
PROMPT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.yaml$")


def version_files(root: Path) -> dict[str, dict[int, Path]]:
    """Every prompt folder of ``root`` and its version files, by version number."""
    found: dict[str, dict[int, Path]] = {}
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and PROMPT_NAME.match(p.name)):
        versions = {
            int(m.group(1)): f
            for f in folder.iterdir()
            if f.is_file() and (m := VERSION_FILE.match(f.name))
        }
        if versions:
            found[folder.name] = dict(sorted(versions.items()))
    return found


def load_yaml(text: str) -> Any:
    """Parses YAML safely (no Python objects), with the C parser when it is available."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def atomic_write(path: Path, text: str) -> None:
    """Writes ``text`` so a reader sees the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (YAML errors span several)."""
    return " ".join(str(exc).split())
