"""Runs fuzz plans in child processes and watches them: per-case time, memory, crashes.

Each plan is one child (`python -m tests.fuzz.fuzz_worker`) going through its cases in order
and logging a "start" and an "end" line per case. The parent polls those lines and the
child's resident memory. A case that runs past its time limit (even stuck inside C code,
where no Python alarm would fire) or past the hard memory limit is killed and recorded as a
hang or a memory failure; a child that dies mid-case (segfault, abort) is recorded as a
crash. Either way a fresh child carries on from the next case, so one bad case never hides
the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Plan:
    """Cases for one child, and the limits it runs under."""

    name: str
    cases: list[tuple[str, int]]
    seed: int
    per_case_seconds: float = 20.0
    startup_seconds: float = 180.0
    hard_memory_mb: float = 1500.0  # above the RSS the child had when ready: killed


@dataclass
class _Child:
    plan: Plan
    folder: Path
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_position: int = 0
    process: subprocess.Popen[bytes] | None = None
    offset: int = 0
    launched: float = 0.0
    ready_rss_kb: int | None = None
    current: int | None = None
    current_started: float = 0.0
    done: bool = False
    restarts: int = 0

    @property
    def results(self) -> Path:
        return self.folder / "results.jsonl"

    def launch(self) -> None:
        plan_file = self.folder / "plan.json"
        plan_file.write_text(json.dumps({"seed": self.plan.seed, "cases": self.plan.cases}))
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONFAULTHANDLER="1",
                   CUDA_VISIBLE_DEVICES="-1")
        with open(self.folder / "stderr.txt", "ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.fuzz.fuzz_worker", str(plan_file),
                 str(self.results), str(self.folder / "work"), str(self.next_position)],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        self.launched = time.monotonic()
        self.ready_rss_kb = None
        self.current = None

    def _read_lines(self) -> None:
        if not self.results.exists():
            return
        with open(self.results, "rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode("utf-8").splitlines():
            entry = json.loads(line)
            if entry["event"] == "ready":
                self.ready_rss_kb = _rss_kb(entry["pid"])
            elif entry["event"] == "start":
                self.current, self.current_started = entry["position"], time.monotonic()
            else:
                self.records[entry["position"]] = entry
                self.current, self.next_position = None, entry["position"] + 1

    def _stop(self, outcome: str, message: str) -> None:
        """Kill the child (if alive); charge `outcome` to the running case; go on after it."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._read_lines()
        if self.current is not None:
            self.records[self.current] = {"event": "end", "position": self.current,
                                          "outcome": outcome, "message": message}
            self.next_position = self.current + 1
        elif outcome == "worker-failed" or self.ready_rss_kb is None:
            self._give_up()
        self.process, self.current = None, None
        self.restarts += 1

    def _give_up(self) -> None:
        """Every case not yet run fails, with the end of the worker's error output."""
        stderr = self.folder / "stderr.txt"
        tail = stderr.read_text(errors="replace")[-1500:] if stderr.exists() else ""
        for position in range(self.next_position, len(self.plan.cases)):
            self.records[position] = {"event": "end", "position": position,
                                      "outcome": "worker-failed", "message": tail}
        self.next_position = len(self.plan.cases)

    def poll(self) -> None:
        if self.done:
            return
        if self.process is None:
            if self.next_position >= len(self.plan.cases):
                self.done = True
                return
            if self.restarts > len(self.plan.cases) + 3:  # dying between cases, again and again
                self._give_up()
                return
            self.launch()
            return
        self._read_lines()
        now = time.monotonic()
        code = self.process.poll()
        if code is not None:
            self._read_lines()
            if self.current is None and self.next_position >= len(self.plan.cases):
                self.process = None
                self.done = True
                return
            self._stop("crash", f"the reading process died (exit code {code})")
            return
        if self.ready_rss_kb is None:
            if now - self.launched > self.plan.startup_seconds:
                self._stop("worker-failed", "the fuzz worker did not start")
            return
        if self.current is not None and now - self.current_started > self.plan.per_case_seconds:
            self._stop("hang", f"still running after {self.plan.per_case_seconds:g} s; killed")
            return
        rss = _rss_kb(self.process.pid)
        if rss is not None and (rss - self.ready_rss_kb) / 1024 > self.plan.hard_memory_mb:
            self._stop("memory-killed", f"resident memory grew by more than "
                                        f"{self.plan.hard_memory_mb:g} MB; killed")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_plans(plans: list[Plan], folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Run every plan in its own child, concurrently; {plan name: one record per case}.

    A record has category, index, outcome ("loaded", "refused", or a failure: "unexpected",
    "inconsistent", "empty-message", "hang", "crash", "memory-killed", "worker-failed"),
    message, and for finished cases seconds and rss_growth_mb.
    """
    children = []
    for plan in plans:
        child_folder = folder / plan.name
        child_folder.mkdir(parents=True)
        children.append(_Child(plan, child_folder))
    try:
        while not all(child.done for child in children):
            for child in children:
                child.poll()
            time.sleep(0.05)
    finally:
        for child in children:
            child.kill()
    results = {}
    for child in children:
        records = []
        for position, (category, index) in enumerate(child.plan.cases):
            record = dict(child.records.get(position, {"outcome": "missing", "message": ""}))
            record.update(category=category, index=index)
            records.append(record)
        results[child.plan.name] = records
    return results
