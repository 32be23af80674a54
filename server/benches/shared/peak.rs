//! Peak resident size during a run, sampled on its own thread (the inbox
//! benches include it with `#[path]`).
use std::sync::Arc;
use std::time::Duration;

/// kB from a `/proc/self/status` line such as `VmHWM:   123456 kB`.
pub fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Samples the resident size every 2 ms on its own thread until stopped;
/// the peak minus the size at the start is the run's peak memory.
pub struct PeakRss {
    stop: Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
    before: u64,
}

impl PeakRss {
    pub fn start() -> Self {
        let before = status_kb("VmRSS:");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_kb("VmRSS:"));
                std::thread::sleep(Duration::from_millis(2));
            }
            peak.max(status_kb("VmRSS:"))
        });
        Self {
            stop,
            sampler,
            before,
        }
    }

    /// MiB above the resident size at `start`.
    pub fn finish(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = self.sampler.join().unwrap_or(0);
        peak.saturating_sub(self.before) as f64 / 1024.0
    }
}
