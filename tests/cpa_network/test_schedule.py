"""Periodic jobs fire once per slot, however many beats run."""

import threading

from cpa_network.jobs import get_queue
from cpa_network.schedule import PeriodicJob, enqueue_due, register_periodic


def test_two_beats_racing_on_one_slot_enqueue_once(app, test_side_app, app_context,
                                                   monkeypatch):
    # Only the probe: the packages' own periodic jobs would race for their own slots.
    monkeypatch.setitem(test_side_app.extensions, "cpa_periodic", {})
    job = PeriodicJob("probe", notify_probe, every_s=60, queue="notifications")
    register_periodic(test_side_app, job)
    results = []

    def beat():
        with test_side_app.app_context():
            results.append(enqueue_due(now=6_000_030.0))

    threads = [threading.Thread(target=beat) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(len, results)) == [0] * 7 + [1]
    assert get_queue("notifications").count == 1
    assert enqueue_due(now=6_000_059.0) == []  # same slot: nothing
    assert enqueue_due(now=6_000_061.0) == ["periodic-probe-100001"]  # next slot


def notify_probe():
    """A stand-in periodic job body used by the race test (never executed there)."""
