//! Giving freed memory back to the system. glibc keeps what a burst of
//! requests freed in its per-thread arenas, so after a load the resident
//! size stayed at its peak (52 MB against 23 MB idle, measured by the load
//! bench); `malloc_trim` returns those free pages. Cheap when little is
//! free, so it simply runs every 30 s.
//!
//! `malloc_trim` returns free pages inside an arena, but not the free top of
//! a thread's arena; glibc shrinks that top only past its trim threshold,
//! which it raises to twice the size of any large block freed (up to 64 MiB).
//! After the load bench, one worker's arena kept a 19.9 MB free top (its
//! threshold had grown past it), 51 MB resident against 26 idle.
//! [`fix_thresholds`] pins both thresholds, so large blocks come from `mmap`
//! and go back when freed, and an arena's free top beyond 1 MiB is returned.
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(30);

/// Blocks of 128 KiB or more are mapped on their own (glibc's initial
/// figure, no longer raised).
const MMAP_THRESHOLD: i32 = 128 * 1024;
/// A free arena top beyond this is returned to the system.
const TRIM_THRESHOLD: i32 = 1024 * 1024;

/// Pins glibc's mmap and trim thresholds (a no-op off glibc). Called once,
/// before the runtime starts its threads.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn fix_thresholds() {
    // SAFETY: mallopt only sets the allocator's tuning parameters (under its
    // own lock); both accept any value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fix_thresholds() {}

/// Starts the trim every 30 s (a no-op off glibc).
pub fn spawn_trim() {
    tokio::spawn(async {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // On a blocking thread: trimming takes the arenas' locks.
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks the allocator's own free lists and is
    // thread-safe; the argument is the padding to keep at the heap's top.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
