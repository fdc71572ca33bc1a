import multiprocessing
import threading

import numpy as np
import pytest

from minnet.speed import threads


@pytest.mark.parametrize("length", [1, 2, 3, 7, 100])
def test_ranges_cover_each_index_once(three_threads, length):
    seen = []
    lock = threading.Lock()

    def record(start, stop):
        with lock:
            seen.extend(range(start, stop))

    threads.for_each_range(record, length)
    assert sorted(seen) == list(range(length))


def test_work_is_split_among_threads(three_threads):
    ranges, names = [], set()

    def record(start, stop):
        ranges.append((start, stop))
        names.add(threading.current_thread().name)

    threads.for_each_range(record, 9)
    assert sorted(ranges) == [(0, 3), (3, 6), (6, 9)]
    assert threading.current_thread().name in names  # the caller takes a range itself
    assert any(name.startswith("minnet") for name in names)


def test_small_work_stays_on_the_calling_thread():
    names = []
    threads.for_each_range(lambda start, stop: names.append(threading.current_thread().name), 4, item_size=10)
    assert names == [threading.current_thread().name]


def test_an_error_in_a_worker_propagates(three_threads):
    def fail_on_the_last_range(start, stop):
        if stop == 6:
            raise ValueError("bad range")

    with pytest.raises(ValueError, match="bad range"):
        threads.for_each_range(fail_on_the_last_range, 6)


def test_count_comes_from_the_environment(monkeypatch):
    previous = threads.count()
    monkeypatch.setenv("MINNET_NUM_THREADS", "5")
    monkeypatch.setattr(threads, "_count", None)
    assert threads.count() == 5
    threads.set_count(previous)


def test_count_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        threads.set_count(0)


def _split_a_sum():
    total = np.zeros(6)
    threads.for_each_range(lambda start, stop: total.__setitem__(slice(start, stop), 1), 6)
    assert total.sum() == 6


def test_a_forked_child_gets_threads_of_its_own(three_threads):
    """A child made by fork inherits the pool object but none of its threads; it must not wait on them."""
    for _ in range(10):  # the parent's pool exists now, its threads idle and known to be so
        _split_a_sum()
    child = multiprocessing.get_context("fork").Process(target=_split_a_sum)
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
