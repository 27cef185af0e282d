//! Time for the driver and the simulator: the real clock, a virtual clock that jumps on every sleep (tests,
//! dry runs, and a persisted world at `--sim-speed max`), or a scaled clock that runs a persisted simulated
//! world at `--sim-speed` × real time.
//!
//! The core never reads a clock: the driver passes `now` in. This is the only place time comes from.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

use crate::plan::units::Duration;

#[derive(Debug, Clone)]
pub enum Clock {
    /// Wall-clock time; sleeps really sleep.
    System,
    /// Simulated time that advances only when someone sleeps. `pace` > 0 also sleeps `d / pace` of real
    /// time per sleep, so a demo is visible without taking hours.
    Virtual { now: Arc<Mutex<Timestamp>>, pace: f64 },
    /// Simulated time = `anchor_sim + (real now - anchor_real) × speed`: it keeps flowing while no process
    /// runs, like the real cloud does.
    Scaled {
        anchor_real: Timestamp,
        anchor_sim: Timestamp,
        speed: f64,
    },
}

impl Clock {
    pub fn virtual_at(start: Timestamp) -> Clock {
        Clock::Virtual {
            now: Arc::new(Mutex::new(start)),
            pace: 0.0,
        }
    }

    pub fn paced_at(start: Timestamp, pace: f64) -> Clock {
        Clock::Virtual {
            now: Arc::new(Mutex::new(start)),
            pace,
        }
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Virtual { now, .. } => *now.lock().expect("clock lock"),
            Clock::Scaled {
                anchor_real,
                anchor_sim,
                speed,
            } => {
                let real = Timestamp::now()
                    .duration_since(*anchor_real)
                    .as_secs_f64()
                    .max(0.0);
                // Whole simulated seconds keep the plan file and reports readable.
                let scaled = SignedDuration::from_secs((real * speed).floor() as i64);
                anchor_sim.checked_add(scaled).unwrap_or(*anchor_sim)
            }
        }
    }

    /// How long `duration` of this clock's time lasts in real time.
    pub fn real_duration(&self, duration: Duration) -> std::time::Duration {
        self.real_time(duration.as_std())
    }

    fn real_time(&self, duration: std::time::Duration) -> std::time::Duration {
        match self {
            Clock::System => duration,
            Clock::Virtual { pace, .. } if *pace > 0.0 => duration.div_f64(*pace),
            Clock::Virtual { .. } => std::time::Duration::ZERO,
            Clock::Scaled { speed, .. } => duration.div_f64(speed.max(1e-9)),
        }
    }

    /// Lets `duration` of this clock's time pass.
    pub async fn sleep(&self, duration: Duration) {
        let real = self.real_duration(duration);
        if !real.is_zero() {
            tokio::time::sleep(real).await;
        }
        self.advance(duration);
    }

    /// Lets this clock's time pass until `at` (returns at once when it is past). A virtual clock jumps to
    /// `at` exactly, so event time never drifts with the host's load.
    pub async fn sleep_until(&self, at: Timestamp) {
        let ahead = at.duration_since(self.now());
        if let Ok(ahead) = std::time::Duration::try_from(ahead) {
            let real = self.real_time(ahead);
            if !real.is_zero() {
                tokio::time::sleep(real).await;
            }
        }
        if let Clock::Virtual { now, .. } = self {
            let mut now = now.lock().expect("clock lock");
            *now = (*now).max(at);
        }
    }

    /// Moves a virtual clock forward; other clocks move by themselves.
    pub fn advance(&self, duration: Duration) {
        if let Clock::Virtual { now, .. } = self {
            let mut now = now.lock().expect("clock lock");
            let step = SignedDuration::from_secs(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX));
            *now = now.checked_add(step).unwrap_or(*now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[tokio::test]
    async fn a_virtual_clock_jumps_to_the_wake_up_and_never_back() {
        let clock = Clock::virtual_at(t("2026-12-01T08:00:00Z"));
        clock.sleep_until(t("2026-12-03T08:00:00.5Z")).await;
        assert_eq!(clock.now(), t("2026-12-03T08:00:00.5Z"));
        clock.sleep_until(t("2026-12-01T09:00:00Z")).await;
        assert_eq!(
            clock.now(),
            t("2026-12-03T08:00:00.5Z"),
            "a past deadline returns at once"
        );
        clock.sleep(Duration::secs(60)).await;
        assert_eq!(clock.now(), t("2026-12-03T08:01:00.5Z"));
    }

    #[tokio::test]
    async fn a_past_deadline_returns_at_once_on_every_clock() {
        let past = t("2000-01-01T00:00:00Z");
        Clock::System.sleep_until(past).await;
        let scaled = Clock::Scaled {
            anchor_real: Timestamp::now(),
            anchor_sim: t("2026-12-01T08:00:00Z"),
            speed: 1.0,
        };
        scaled.sleep_until(past).await;
    }
}
