"""A worker process: ``python -m course_lib.tasks.worker`` reads its queue's spec on stdin.

The spec (handler path, queue name, store, retry policy) arrives on standard input rather than
the command line or the environment, so a Redis URL with a password never shows in ``ps``.
The process runs huey's consumer with its signal handlers: SIGINT finishes the jobs in hand
and exits; SIGKILL is a crash, which the lesson uses to lose a job on purpose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["WorkerProcess", "main"]

_READY = "worker ready"


@dataclass
class WorkerProcess:
    """A running worker process."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @classmethod
    def start(cls, spec: dict[str, Any], folder: Path, timeout_s: float = 30.0) -> WorkerProcess:
        from course_lib.errors import TaskQueueError

        folder.mkdir(parents=True, exist_ok=True)
        log = folder / f"{spec['name']}.worker-{time.time_ns()}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "course_lib.tasks.worker"],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the notebook does not reach it
            )
        assert process.stdin is not None
        process.stdin.write(json.dumps(spec).encode())
        process.stdin.close()
        worker = cls(process, log)
        deadline = time.monotonic() + timeout_s
        while _READY not in log.read_text(errors="replace"):
            if not worker.alive or time.monotonic() > deadline:
                worker.kill()
                tail = log.read_text(errors="replace")[-400:]
                raise TaskQueueError(f"The worker process did not start; its log ends: {tail}")
            time.sleep(0.05)
        return worker

    def stop(self, timeout_s: float = 30.0) -> None:
        """Asks it to finish the jobs in hand and exit (SIGINT), then waits."""
        if self.alive:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """Kills it at once (SIGKILL), as a crash or an out-of-memory kill would."""
        if self.alive:
            self.process.kill()
        self.process.wait()


def main() -> None:
    import logging

    from course_lib.tasks.queue import RetryPolicy, TaskQueue

    spec = json.loads(sys.stdin.read())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    queue = TaskQueue(
        spec["handler"],
        name=spec["name"],
        url=spec["url"],
        folder=Path(spec["folder"]) if spec["folder"] else None,
        retry=RetryPolicy(**spec["retry"]),
        lease_s=spec["lease_s"],
    )
    queue.handler  # import it now: a wrong path fails before the first job  # noqa: B018
    consumer = queue.huey.create_consumer(
        workers=spec["workers"],
        worker_type="thread",
        periodic=False,
        initial_delay=0.02,
        backoff=1.5,
        max_delay=0.2,
        check_worker_health=False,
    )
    print(f"{_READY} (pid {os.getpid()})", flush=True)
    consumer.run()


if __name__ == "__main__":
    main()
