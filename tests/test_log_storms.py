"""Log storms are thinned out: the same error from every request is not a line each."""

from __future__ import annotations

import logging
import time

from service.telemetry import StormFilter, access_log, error_log


def _record(logger: logging.Logger, msg: str, *args: object) -> logging.LogRecord:
    return logger.makeRecord(logger.name, logging.ERROR, __file__, 1, msg, args, None)


def test_a_storm_of_one_kind_is_thinned_and_counted() -> None:
    storm = StormFilter(burst=5, window_s=0.2)
    let = [
        storm.filter(_record(error_log, "POST %s: unhandled %s", "/v1/check", i))
        for i in range(100)
    ]
    assert sum(let) == 5
    other = _record(error_log, "another kind of error")
    assert storm.filter(other)  # other kinds are not held back by the storm
    time.sleep(0.25)
    after = _record(error_log, "POST %s: unhandled %s", "/v1/check", "x")
    assert storm.filter(after) and after.suppressed == 95


def test_the_access_log_is_never_thinned() -> None:
    storm = StormFilter(burst=1, window_s=60)
    assert all(storm.filter(_record(access_log, "%s %s %s", "GET", "/", 200)) for _ in range(50))


def test_kinds_are_bounded() -> None:
    storm = StormFilter(burst=1, window_s=60, kinds=10)
    for i in range(1_000):
        storm.filter(_record(error_log, f"message {i}"))
    assert len(storm._windows) <= 10
