//! Crash points for the process-level chaos tests (`server/tests/chaos.rs`).
//!
//! `fail::fail_point!` is compiled in only with this crate's `failpoints`
//! feature, which `make test` enables and release builds never do; there,
//! `FAILPOINTS=outbox::after_draft=return` makes the process stop at that
//! step so the test can `kill -9` it exactly there.

/// Announces the stop (the test waits for this log line) and blocks this
/// worker thread until the process is killed.
#[allow(dead_code)] // Referenced only from `fail_point!`, which is empty outside tests.
pub fn stop_here(point: &str) -> ! {
    tracing::warn!(
        failpoint = point,
        "stopped at a failpoint; waiting to be killed"
    );
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
