"""NewestRequest: only the newest background request's result reaches the widget."""

from __future__ import annotations

import threading

from cnnviz.ui.common.workers import NewestRequest


def test_a_superseded_request_is_dropped_and_the_newest_delivered(qtbot):
    requests = NewestRequest()
    release_first = threading.Event()
    results: list[str] = []
    busy: list[bool] = []
    requests.busy_changed.connect(busy.append)

    def slow(report):
        release_first.wait(5)
        return "first"

    first = requests.submit(slow, results.append)
    second = requests.submit(lambda report: "second", results.append)
    assert second == first + 1 and requests.busy
    qtbot.waitUntil(lambda: results == ["second"], timeout=5000)
    release_first.set()
    qtbot.waitUntil(lambda: requests.threads_alive == 0, timeout=5000)
    assert results == ["second"] and not requests.busy
    assert busy == [True, False]


def test_failures_and_progress_reach_only_the_newest(qtbot):
    requests = NewestRequest()
    failures: list[str] = []
    stages: list[str] = []

    def broken(report):
        report("Working", 1, 2)
        raise ValueError("bad value")

    requests.submit(broken, lambda _r: None, lambda message, _d: failures.append(message),
                    lambda stage, done, total: stages.append(f"{stage} {done}/{total}"))
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert "ValueError: bad value" in failures[0] and stages == ["Working 1/2"]

    requests.submit(lambda report: 1, lambda _r: None)
    requests.supersede()                      # the user moved on: nothing is delivered
    qtbot.waitUntil(lambda: requests.threads_alive == 0, timeout=5000)
    assert not requests.busy


def test_one_at_a_time_runs_only_the_newest_waiting_request(qtbot):
    requests = NewestRequest(one_at_a_time=True)
    release = threading.Event()
    started: list[str] = []
    results: list[str] = []

    def job(name, wait=False):
        def work(report):
            started.append(name)
            if wait:
                release.wait(5)
            return name
        return work

    requests.submit(job("a", wait=True), results.append)
    qtbot.waitUntil(lambda: started == ["a"], timeout=5000)
    requests.submit(job("b"), results.append)
    requests.submit(job("c"), results.append)
    release.set()
    qtbot.waitUntil(lambda: results == ["c"], timeout=5000)
    assert started == ["a", "c"]            # b was forgotten while a ran


def test_shutdown_waits_for_running_work(qtbot):
    requests = NewestRequest()
    release = threading.Event()
    requests.submit(lambda report: release.wait(5), lambda _r: None)
    threading.Timer(0.2, release.set).start()
    requests.shutdown()
    assert requests.threads_alive == 0 and not requests.busy
