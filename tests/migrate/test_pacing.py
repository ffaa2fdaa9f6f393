"""The write pacer on a fake clock: slots, slow start, back-off, trials, noise; and the live sink's use of it."""

from __future__ import annotations

import random
import threading

import pytest

from cucm_spark.errors import ExecutionError, NotFound, Throttled, TransportError
from cucm_spark.migrate.live import LiveSink
from cucm_spark.migrate.pacing import MAX_RATE, START_RATE, Pacer


class Clock:
    """Time that moves only when told; ``sleep`` moves it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer(clock: Clock, rate: float = START_RATE, **kw: float) -> Pacer:
    return Pacer(rate, clock=clock, sleep=clock.sleep, **kw)


def drive(pacer: Pacer, clock: Clock, writes: int, admit, rtt: float = 0.001) -> tuple[int, int]:
    """Send ``writes`` writes one after another through the pacer; ``admit(t)`` says if the cluster takes one."""
    passed = refused = 0
    while passed < writes:
        sent = pacer.acquire()
        clock.now = sent + rtt
        if admit(sent):
            pacer.passed(sent)
            passed += 1
        else:
            pacer.refused(sent)
            refused += 1
    return passed, refused


class Bucket:
    """The lab's throttle: ``rate`` writes/s, bursts of one second's worth, refusals free."""

    def __init__(self, rate: float, start: float) -> None:
        self.rate, self.tokens, self.stamp = rate, rate, start

    def __call__(self, t: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (t - self.stamp) * self.rate)
        self.stamp = t
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def test_slots_are_spaced_by_the_rate_and_shared_by_every_caller() -> None:
    clock = Clock()
    pace = pacer(clock, rate=20)
    slots = [pace.reserve() for _ in range(5)]
    assert slots == pytest.approx([100.0, 100.05, 100.1, 100.15, 100.2])
    # acquire waits for its slot (the fake sleep moves the clock) and says when it was.
    assert pace.acquire() == pytest.approx(100.25)
    assert clock.now == pytest.approx(100.25)
    assert pace.stats.waited == pytest.approx(0.25)


def test_slots_from_many_threads_never_collide() -> None:
    clock = Clock()
    pace = pacer(clock, rate=100)
    slots: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            slot = pace.reserve()
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.sort()
    assert len(slots) == 400
    assert min(b - a for a, b in zip(slots, slots[1:], strict=False)) == pytest.approx(0.01)


def test_slow_start_doubles_the_rate_each_second_of_passing_writes() -> None:
    clock = Clock()
    pace = pacer(clock, rate=10)
    drive(pace, clock, 30, admit=lambda _t: True)  # about two seconds' worth at 10, then 20 writes/s
    assert pace.rate == pytest.approx(40)
    assert pace.stats.passed == 30 and pace.stats.cuts == 0


def test_a_503_cuts_the_rate_and_503s_to_the_old_pace_do_not_cut_again() -> None:
    clock = Clock()
    pace = pacer(clock, rate=40)
    sent = [pace.acquire() for _ in range(12)]  # twelve writes in flight at 40/s
    for at in sent[:10]:
        pace.passed(at)
    rate = pace.rate
    pace.refused(sent[10])
    assert pace.rate == pytest.approx(rate * 0.75)
    assert pace.stats.cuts == 1
    pace.refused(sent[11])  # answered to the old pace as well
    assert pace.rate == pytest.approx(rate * 0.75) and pace.stats.cuts == 1
    # The 503s were refusals, not failures: both writes go again at the slower pace.
    assert pace.reserve() - sent[-1] >= 1 / pace.rate - 1e-9


def test_a_cut_that_helped_stands_and_the_rate_climbs_back_in_about_a_second() -> None:
    clock = Clock()
    pace = pacer(clock, rate=40)
    drive(pace, clock, 10, admit=lambda _t: True)
    before = pace.rate
    pace.refused(pace.acquire())
    cut = pace.rate
    drive(pace, clock, 19, admit=lambda _t: True)  # the trial: nothing refused at the slower pace
    assert pace.rate == pytest.approx(cut)  # held while on trial
    drive(pace, clock, 1, admit=lambda _t: True)  # the twentieth ends it
    assert pace.rate > cut
    assert pace.stats.cuts_undone == 0 and pace.noise == 0
    start = clock.now
    drive(pace, clock, int(before), admit=lambda _t: True)
    assert clock.now - start == pytest.approx(1.0, abs=0.35)
    assert pace.rate >= before


def test_a_pace_the_workers_leave_unused_does_not_climb() -> None:
    """Workers busy reading send a write every 0.1 s: passes at 10/s prove nothing about 40/s."""
    clock = Clock()
    pace = pacer(clock, rate=40)
    drive(pace, clock, 12, admit=lambda _t: True)
    pace.refused(pace.acquire())  # leave slow start
    drive(pace, clock, 20, admit=lambda _t: True)  # the trial
    rate = pace.rate
    for _ in range(50):  # five seconds: unchecked, the climb would more than double the rate
        clock.now += 0.1
        pace.passed(pace.acquire())
    assert pace.rate <= 1.05 * rate  # a few passes count before the window is all sparse
    drive(pace, clock, 40, admit=lambda _t: True)  # using the pace again: it climbs
    assert pace.rate > rate


def test_most_writes_refused_cuts_straight_to_the_share_that_passed() -> None:
    clock = Clock()
    pace = pacer(clock, rate=100)
    outcomes = [True] * 2 + [False] * 8 + [False]  # a cluster taking a fifth of what it is sent
    for admitted in outcomes:
        sent = pace.acquire()
        (pace.passed if admitted else pace.refused)(sent)
    assert pace.rate == pytest.approx(100 * 0.2, rel=0.15)


def test_random_503s_are_learnt_as_noise_and_do_not_hold_the_rate_down() -> None:
    """A busy node refusing 30% of writes whatever the pace: the first cut is undone, then the rate climbs."""
    clock = Clock()
    pace = pacer(clock)
    noise = random.Random(7)
    drive(pace, clock, 600, admit=lambda _t: noise.random() >= 0.3)
    assert pace.stats.cuts_undone >= 1
    assert 0.15 <= pace.noise <= 0.45
    assert pace.rate > 4 * START_RATE
    assert pace.stats.cuts <= 4


@pytest.mark.parametrize("limit", [5.0, 50.0, 300.0])
def test_against_a_throttle_the_pace_settles_at_what_the_cluster_takes(limit: float) -> None:
    clock = Clock()
    pace = pacer(clock)
    bucket = Bucket(limit, clock.now)
    start = clock.now
    writes = int(limit * 40)
    _, refused = drive(pace, clock, writes, admit=bucket)
    elapsed = clock.now - start
    ideal = (writes - limit) / limit  # the bucket starts with one second's worth
    assert elapsed <= 1.1 * ideal + 1.0
    # 503s cost a request each, no write; at 5/s the bucket hides each overshoot for a second,
    # and cutting no higher than the last clean pace is what keeps them this few.
    assert refused <= 0.2 * writes
    assert 0.6 * limit <= pace.rate <= 1.6 * limit


@pytest.mark.parametrize("seed", [1, 3])
def test_throttle_and_random_503s_together_still_get_near_the_cluster_s_rate(seed: int) -> None:
    """The hard case: noise hides the throttle's signal. Within the issue's 1.25 x ideal all the same."""
    clock = Clock()
    pace = pacer(clock)
    bucket, noise = Bucket(50, clock.now), random.Random(seed)
    start = clock.now
    drive(pace, clock, 2000, admit=lambda t: noise.random() >= 0.3 and bucket(t))
    assert clock.now - start <= 1.25 * (2000 - 50) / 50


def test_a_ceiling_is_never_passed() -> None:
    clock = Clock()
    pace = Pacer.capped(5.0)
    pace._clock, pace._sleep = clock, clock.sleep  # noqa: SLF001 - the fake clock, as the constructor would take it
    drive(pace, clock, 100, admit=lambda _t: True)
    assert pace.rate == 5.0
    assert Pacer.capped(None).max_rate == MAX_RATE


# -- the live sink's writes through the pacer ---------------------------------------------
class ThrottledClient:
    """Answers 503 to the first ``busy`` writes, then takes them; reads find nothing."""

    def __init__(self, busy: int = 0, lost: int = 0) -> None:
        self.busy, self.lost = busy, lost
        self.sent: list[str] = []

    def write_once(self, operation: str, **_payload: object) -> None:
        self.sent.append(operation)
        if self.busy:
            self.busy -= 1
            raise Throttled("busy (HTTP 503)")
        if self.lost:
            self.lost -= 1
            raise TransportError("no answer")

    def get(self, operation: str, **_key: object) -> dict:
        raise NotFound(f"{operation}: not found")


def test_a_write_answered_503_goes_again_at_the_pacer_s_pace_and_never_fails() -> None:
    clock = Clock()
    pace = pacer(clock, rate=10)
    client = ThrottledClient(busy=6)
    sink = LiveSink(client, pace)  # type: ignore[arg-type]
    assert sink.send("removePhone", {"name": "CTIRDX"}) == "sent"
    assert client.sent == ["removePhone"] * 7
    assert pace.stats.refused == 6 and pace.stats.passed == 1
    assert clock.now > 100.0  # it waited for its slots rather than hammering


def test_a_write_refused_past_the_patience_fails_its_user_with_nothing_done() -> None:
    clock = Clock()
    client = ThrottledClient(busy=10**6)
    sink = LiveSink(client, pacer(clock, rate=10), patience=0.0)  # type: ignore[arg-type]
    with pytest.raises(ExecutionError, match="HTTP 503"):
        sink.send("removePhone", {"name": "CTIRDX"})


def test_a_lost_answer_is_still_read_back_before_the_write_goes_again() -> None:
    clock = Clock()
    client = ThrottledClient(busy=1, lost=1)
    sink = LiveSink(client, pacer(clock, rate=10))  # type: ignore[arg-type]
    # removePhone's read-back is getPhone: NotFound says the device is gone, so it happened.
    assert "the read-back shows it happened" in sink.send("removePhone", {"name": "CTIRDX"})
    assert client.sent == ["removePhone", "removePhone"]  # the 503, then the lost one; never a third
