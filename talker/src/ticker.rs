//! The talker's clock: one tick per period, evenly spaced even where the period is shorter than
//! tokio's timer resolution (1 ms), and a burst of the missed ticks after a stall, so the
//! achieved rate is the requested one.
//!
//! A tokio interval of 100 µs fires ten times at once every millisecond: a 10 kHz talker sent
//! bursts of ten, and a burst longer than a reader's keep-last depth loses samples on any stack
//! that takes them one by one (the r2r flavour). A Linux timerfd on the monotonic clock, polled
//! by tokio, ticks at the period itself.

use std::os::fd::{AsFd as _, AsRawFd, RawFd};
use std::time::Duration;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;

/// A timerfd, as tokio's readiness polling takes it.
struct Timer(TimerFd);

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Ticks every `period`, the first at once.
pub struct Ticker {
    timer: AsyncFd<Timer>,
    /// Ticks already due and not yet returned.
    due: u64,
}

impl std::fmt::Debug for Ticker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticker").field("due", &self.due).finish()
    }
}

impl Ticker {
    /// A ticker of `period` (at least 1 µs). Must be called inside a tokio runtime with IO.
    pub fn new(period: Duration) -> std::io::Result<Ticker> {
        let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC)?;
        let period = TimeSpec::from_duration(period.max(Duration::from_micros(1)));
        timer.set(Expiration::Interval(period), TimerSetTimeFlags::empty())?;
        // `AsyncFd::new` is deprecated for wrappers that do not own their descriptor (tokio#8587;
        // its replacement is an `unsafe fn`, which the workspace denies): `Timer` owns it, and the
        // AsyncFd deregisters it before dropping `Timer`, which closes it.
        #[allow(deprecated)]
        let timer = AsyncFd::new(Timer(timer))?;
        Ok(Ticker { timer, due: 1 })
    }

    /// The next tick. Cancel-safe: a tick is taken from the timer and returned without an
    /// await between.
    pub async fn tick(&mut self) -> std::io::Result<()> {
        // A talker behind its rate has ticks due at once, and a task that is never pending never
        // lets the runtime fire its timers (its deadline): yield now and then, as tokio's own
        // interval does.
        tokio::task::consume_budget().await;
        loop {
            if self.due > 0 {
                self.due -= 1;
                return Ok(());
            }
            let mut ready = self.timer.readable().await?;
            let mut expirations = [0u8; 8];
            match ready.try_io(|t| nix::unistd::read(t.get_ref().0.as_fd(), &mut expirations).map_err(Into::into)) {
                Ok(Ok(8)) => self.due = u64::from_ne_bytes(expirations),
                Ok(Ok(n)) => return Err(std::io::Error::other(format!("timerfd read {n} bytes, not 8"))),
                Ok(Err(e)) => return Err(e),
                // Not yet (a spurious readiness): wait again.
                Err(_would_block) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never faster than the period, and a stall is made up at once (the ticks missed are due
    /// together), so the achieved rate is the requested one. (How evenly ticks are spaced is a
    /// timing figure: bench/sizes.py's rate sweep.)
    #[test]
    fn ticks_keep_the_rate_and_catch_up_after_a_stall() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let period = Duration::from_micros(250);
            let mut ticker = Ticker::new(period).expect("timerfd");
            let start = std::time::Instant::now();
            for _ in 0..41 {
                ticker.tick().await.expect("tick");
            }
            // The first is at once, the timer started just before `start`.
            assert!(start.elapsed() >= 39 * period, "41 ticks in {:?}", start.elapsed());
            std::thread::sleep(Duration::from_millis(5));
            ticker.tick().await.expect("tick");
            assert!(ticker.due >= 18, "after a 5 ms stall only {} more ticks were due", ticker.due);
        });
    }

    /// A ticker that is always behind (1 µs) still lets the runtime's timers fire: a talker
    /// slower than its rate stops at its deadline.
    #[test]
    fn a_ticker_behind_its_rate_lets_timers_fire() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let mut ticker = Ticker::new(Duration::from_micros(1)).expect("timerfd");
                let deadline = tokio::time::sleep(Duration::from_millis(20));
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        biased;
                        _ = &mut deadline => break,
                        tick = ticker.tick() => {
                            tick.expect("tick");
                            std::thread::sleep(Duration::from_micros(5));
                        }
                    }
                }
            });
            let _ = done.send(());
        });
        assert!(finished.recv_timeout(Duration::from_secs(10)).is_ok(), "the deadline never fired");
    }
}
