"""The same request gives byte-identical answers across processes, runs and machines.

``tests/data/local_model_answers.json`` holds the answers recorded on the machine that wrote
it; a fresh process here must reproduce them exactly. Regenerate it only when the model's
behaviour changes on purpose:
``.venv/bin/python tests/determinism_probe.py > tests/data/local_model_answers.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
RECORDED = HERE / "data" / "local_model_answers.json"


def _answers() -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, str(HERE / "determinism_probe.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_two_fresh_processes_give_identical_answers() -> None:
    assert _answers() == _answers()


def test_answers_match_the_ones_recorded_on_another_machine() -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    fresh = _answers()
    assert len(fresh) == len(recorded)
    for i, (now, then) in enumerate(zip(fresh, recorded, strict=True)):
        assert now == then, f"request {i} ({then['model']}) answered differently"
