import threading

import pytest

from minnet import threads


@pytest.fixture
def three_threads(monkeypatch):
    """Three threads, and every range worth splitting however small."""
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1)
    previous = threads.count()
    threads.set_count(3)
    yield
    threads.set_count(previous)


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
    assert all(name.startswith("minnet") for name in names)


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
