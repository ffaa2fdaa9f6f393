"""Write pacing: one adaptive rate limiter that every worker of a run asks before each write.

CUCM throttles AXL writes and answers HTTP 503, before doing anything, to a write over
its limit; a node that is merely busy answers some writes with 503 at any pace. Backing
off per call (what the client does for reads) makes each worker wait alone and guess:
the workers keep each other over the limit and most of a run is spent asleep. Here the
writes of all workers share one pace, spaced ``1 / rate`` apart, and the rate follows
what the cluster accepts: AIMD, with each back-off put on trial.

- **Slow start**: from ``rate`` (25 writes/s), each write that passes adds one write/s,
  so the rate doubles every second until the first 503.
- **Back off** (multiplicative): a 503 to a write sent at the current pace cuts the rate
  to 3/4, or straight to the share of recent writes that passed if that is lower, and no
  higher than the last pace that went a whole window clean (a burst allowance, like the
  lab's token bucket or CUCM's change-notification queue, hides an overshoot until it
  runs dry). 503s to writes sent before a cut answered the old pace and count for nothing.
- **Trial**: the rate then holds while the next writes show what the cut did. Hardly any
  refused, or significantly fewer (a two-proportion test): the 503s were about the pace,
  the cut stands. Significantly more (the cluster's burst allowance ran out meanwhile),
  or most still refused: still too fast, the cut stands and the next 503 cuts again. As
  often refused as before: slowing down only cost writes, so the 503s were not about the
  pace (a busy node refusing at random, an injected fault) and the cut is undone.
- **Noise**: the share refused after clean and undone cuts is the background the pacer
  then lives with: it cuts only on 503s clearly (2.5 standard errors) more frequent
  than that, so random refusals do not hold a run to a crawl. A cut that was not deep
  enough can pass for noise; the cost is more 503s (which CUCM answers before doing any
  work), not fewer writes done, and later clean trials bring the noise down again.
- **Speed up** (additive): after a trial the rate climbs back to where it was cut in
  about a second and on at that slope, the slope doubling each further second without a
  cut, so a cluster that takes more is found in seconds. Only while the writes use the
  pace: when the workers are busy reading and leave slots unused, a higher rate would
  prove nothing and let the next burst meet the cluster at a pace never tried.

A 503 is never a failure: the write waits for its next slot and is sent again. The clock
and sleep are injectable, so the policy is tested without waiting.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger("cucm_spark.migrate.pacing")

START_RATE = 25.0
MIN_RATE = 0.2
MAX_RATE = 1000.0
BACKOFF = 0.75  # a cut keeps this share of the rate
RECOVERY = 1.0  # seconds for the climb to get back to the rate before a cut
WINDOW = 20  # writes that judge a cut, before it and after it
EVIDENCE = 10  # writes answered at the current pace before a cut is considered
USED = 0.8  # the share of the rate that writes must use for passes to raise it
SURE = 0.5  # more refused than this: too fast, whatever the noise
SIGNIFICANT = 2.0  # standard errors by which the share refused must differ to tell
HELPED = 0.6  # or refused this much less often after a cut, however few the writes
TRIALS_KEPT = 5  # the noise is the share refused over the writes of this many trials
NOISE_Z = 2.5  # standard errors over the noise that the refusals must be to cut

Outcome = tuple[bool, float]  # (refused?, the pace it was sent at)


@dataclass
class PacerStats:
    """What a run's writes met: for the summary line and the benchmark."""

    passed: int = 0
    refused: int = 0
    cuts: int = 0
    cuts_undone: int = 0
    waited: float = 0.0


@dataclass
class _Trial:
    """A cut on trial: the rate before it, the outcomes it is compared with, the outcomes after it."""

    rate_before: float
    before: list[Outcome]
    slow_start: bool
    after: list[Outcome] = field(default_factory=list)


class Pacer:
    """The pace of writes for one run, shared by its workers (thread-safe)."""

    def __init__(self, rate: float = START_RATE, *, min_rate: float = MIN_RATE, max_rate: float = MAX_RATE,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if not 0 < min_rate <= max_rate:
            raise ValueError(f"pacer rates: need 0 < min_rate <= max_rate, not {min_rate} and {max_rate}")
        self.min_rate, self.max_rate = min_rate, max_rate
        self.rate = min(max(rate, min_rate), max_rate)
        self.stats = PacerStats()
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next = -math.inf  # the earliest time the next write may go
        self._slots: deque[float] = deque(maxlen=WINDOW)  # the latest slots handed out
        self._slow_start = True
        self._cut_at = -math.inf  # the first slot at the pace after the last cut
        self._climb = 0.0  # writes/s gained per second after a cut
        self._climb_since = -math.inf  # when that climb began
        self._recent: deque[Outcome] = deque(maxlen=WINDOW)  # writes sent at the current pace
        self._trial: _Trial | None = None
        self._noise: deque[list[Outcome]] = deque(maxlen=TRIALS_KEPT)  # writes of the trials that measure it
        self._clean: float | None = None  # the last pace a trial found clean

    @classmethod
    def capped(cls, max_rate: float | None) -> Pacer:
        """A pacer never over ``max_rate`` writes/s (``--max-write-rate``), or with the default ceiling."""
        ceiling = max_rate or MAX_RATE
        return cls(min(START_RATE, ceiling), min_rate=min(MIN_RATE, ceiling), max_rate=ceiling)

    @property
    def noise(self) -> float:
        """The share of writes the cluster refuses whatever the pace, as the trials measured it."""
        return _share([outcome for trial in self._noise for outcome in trial])

    # -- slots --------------------------------------------------------------------------
    def reserve(self) -> float:
        """The time this write may be sent at (now or later); the slot is taken from the others."""
        with self._lock:
            slot = max(self._clock(), self._next)
            self._next = slot + 1.0 / self.rate
            self._slots.append(slot)
            return slot

    def acquire(self) -> float:
        """Wait for the next slot; returns the send time, which ``passed``/``refused`` take back."""
        slot = self.reserve()
        delay = slot - self._clock()
        if delay > 0:
            with self._lock:
                self.stats.waited += delay
            self._sleep(delay)
        return slot

    # -- outcomes -------------------------------------------------------------------------
    def passed(self, sent: float) -> None:
        """The write sent at ``sent`` was let through (whatever it answered): speed up."""
        with self._lock:
            self.stats.passed += 1
            self._record(sent, refused=False)
            if self._trial is not None:
                return  # a cut on trial holds its pace: the trial measures that pace, not a climbing one
            if self._unused():
                return  # the workers do not use the pace they have: a faster one would prove nothing
            if _clean(self._recent):  # the climb passed a whole window clean: so far the cluster keeps up
                self._clean = max(self._clean or 0.0, min(rate for _, rate in self._recent))
            gain = 1.0 if self._slow_start else self._climbing() / self.rate
            # At low rates one write is a long time: never more than a tenth faster per write.
            self.rate = min(self.max_rate, self.rate + min(gain, self.rate / 10))

    def refused(self, sent: float) -> None:
        """The write sent at ``sent`` was answered 503, so nothing was done: perhaps slow down."""
        with self._lock:
            self.stats.refused += 1
            self._record(sent, refused=True)
            if (sent >= self._cut_at and self._trial is None and len(self._recent) >= EVIDENCE
                    and self._over_noise()):
                self._cut()

    # -- the policy ------------------------------------------------------------------------
    def _record(self, sent: float, refused: bool) -> None:
        if sent < self._cut_at:
            return  # sent at the pace before the last cut: says nothing about the current one
        self._recent.append((refused, self.rate))
        trial = self._trial
        if trial is not None:
            trial.after.append((refused, self.rate))
            done = len(trial.after)
            # Most writes still refused: no need to wait for the whole window to know.
            if done >= WINDOW or (done >= EVIDENCE and _share(trial.after) > SURE):
                self._judge(trial)

    def _over_noise(self) -> bool:
        """Whether the recent writes were refused clearly more often than the noise explains.

        A two-proportion test against the writes that measured the noise, so that a noise
        level measured on few writes is not taken for more exact than it is.
        """
        if self.noise <= 0:
            return True
        return _z([outcome for trial in self._noise for outcome in trial], list(self._recent)) > NOISE_Z

    def _unused(self) -> bool:
        """Whether the recent writes came markedly slower than the rate allows (the workers were busy reading).

        The pace is then not what limits the writes, and raising it would only let it run far
        past anything tried: the next burst of writes would meet the cluster at an untested
        pace. (Not in slow start, where the rate doubles faster than any window could follow.)
        """
        slots = self._slots
        span = slots[-1] - slots[0] if len(slots) >= EVIDENCE and not self._slow_start else 0.0
        return span > 0 and (len(slots) - 1) / span < USED * self.rate

    def _climbing(self) -> float:
        """Writes/s gained per second: the additive climb, doubling each second past the recovery."""
        beyond = (self._clock() - self._climb_since - RECOVERY) / RECOVERY
        return self._climb * 2 ** min(max(beyond, 0.0), 16.0)

    def _slow_down(self, keep: float) -> None:
        self.rate = max(self.min_rate, self.rate * keep)
        # Slots already handed out keep their times (and their answers say nothing of the new
        # pace); the first at the new pace is a whole new interval away.
        self._next = max(self._next, self._clock() + 1.0 / self.rate)
        self._climb = self.rate * (1 / BACKOFF - 1) / RECOVERY
        self._cut_at = self._next
        self._recent.clear()

    def _cut(self) -> None:
        # Not the 503 that called the cut: a window picked for ending in a refusal overstates them.
        before = list(self._recent)[:-1]
        self._trial = _Trial(self.rate, before, self._slow_start)
        # The cluster takes about the share that passed: go there at once if that is lower; and
        # no higher than the last pace found clean, which a climb hidden by a burst allowance passed.
        keep = max(min(BACKOFF, (1 - _share(before)) / max(1 - self.noise, 0.5)), 0.1)
        if self._clean is not None:
            keep = max(min(keep, self._clean / self.rate), 0.1)
        rate = self.rate
        self._slow_down(keep)
        self._slow_start = False
        self.stats.cuts += 1
        log.info("HTTP 503: writes slowed from %.1f to %.1f/s (%d of the last %d refused)", rate, self.rate,
                 round(_share(before) * len(before)), len(before))

    def _judge(self, trial: _Trial) -> None:
        """End a trial: the cut stands, or it is undone as a reaction to noise; the noise learnt from clear cases."""
        self._trial = None
        self._climb_since = self._clock()
        before, after = _share(trial.before), _share(trial.after)
        if _clean(trial.after):
            self._noise.append(trial.after)  # clean: the noise is about this low
            self._clean = self.rate
            return
        if self._clean is not None and self.rate <= self._clean:
            self._clean = None  # no longer clean: the cluster takes less than it did
        change = _z(trial.before, trial.after)
        if change < -SIGNIFICANT or after <= before * HELPED:
            if after < self.noise:
                self._noise.append(trial.after)  # the noise is at most this
            return  # refused less often: it helped, and what is still refused may be the pace too
        if change > SIGNIFICANT or after > SURE:
            return  # refused more often, or mostly: still too fast
        # As often refused as before: the 503s were not about the pace.
        self._noise.append(trial.after)
        self.rate = min(self.max_rate, max(self.rate, trial.rate_before))
        self._slow_start = trial.slow_start
        self.stats.cuts_undone += 1
        log.info("writes back to %.1f/s: as many refused at the slower pace (%.0f%%), so not about the pace",
                 self.rate, after * 100)


def _clean(outcomes: Sequence[Outcome]) -> bool:
    """A whole window of writes with at most one refused."""
    return len(outcomes) >= WINDOW and sum(refused for refused, _ in outcomes) <= 1


def _share(outcomes: Sequence[Outcome]) -> float:
    """The share of these writes that were refused."""
    return sum(refused for refused, _ in outcomes) / len(outcomes) if outcomes else 0.0


def _z(before: Sequence[Outcome], after: Sequence[Outcome]) -> float:
    """How many standard errors more often writes were refused after than before (two-proportion test)."""
    n1, n2 = len(before), len(after)
    if not n1 or not n2:
        return 0.0
    k1, k2 = sum(r for r, _ in before), sum(r for r, _ in after)
    pooled = (k1 + k2) / (n1 + n2)
    error = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (k2 / n2 - k1 / n1) / error if error else 0.0
