//! The password hashing threads and the turns callers take to use them.
//!
//! argon2 is ~20–50 ms of CPU and 19 MiB of memory per hash, on purpose. It
//! runs on a few threads of its own, one per core but one, each hashing in a
//! memory area it keeps (`in_place`): a burst of sign-ins queues for a turn
//! instead of taking every core, so the async workers always have a core to
//! answer everything else on, and the memory is threads × 19 MiB however
//! many hashes run; a thread gives its area back after `KEEP_MEMORY` without
//! a hash, so an idle server holds none. (Through the blocking pool and the
//! crate's per-hash allocation, glibc kept nearly every freed 19 MiB area:
//! 20 sign-ins one after another took the process from 47 MB to 400 MB.)
use super::in_place::release_memory;
use super::PasswordError;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// One argon2 computation waiting for a hashing thread; it answers on its
/// own channel.
type Job = Box<dyn FnOnce() + Send>;

/// How many hashing threads run: every core but one, and at least one.
fn threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.saturating_sub(1).max(1)
}

/// The queue to the hashing threads, started on first use and kept for the
/// life of the process.
fn hashers() -> &'static mpsc::SyncSender<Job> {
    static QUEUE: OnceLock<mpsc::SyncSender<Job>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        // Waiting work lives with the async callers (they wait for a turn),
        // not here: the queue only ever holds jobs a thread is free for.
        let (queue, jobs) = mpsc::sync_channel::<Job>(threads());
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads() {
            let jobs = jobs.clone();
            let started = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || serve(&jobs));
            if let Err(e) = started {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        queue
    })
}

/// How long a hashing thread keeps its memory area without a hash: long
/// enough that a burst reuses it, short enough that idle means small.
const KEEP_MEMORY: Duration = Duration::from_secs(30);

fn serve(jobs: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // A poisoned lock only means another hasher panicked while taking a
        // job; the receiver itself is intact.
        let next = match jobs.lock() {
            Ok(jobs) => jobs.recv_timeout(KEEP_MEMORY),
            Err(poisoned) => poisoned.into_inner().recv_timeout(KEEP_MEMORY),
        };
        let job = match next {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                release_memory();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        // A panicking job must not take its thread with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Turns at the hashing threads, one per thread. A job holds its turn until
/// it has run, even if its caller has gone, so the queue never overfills.
fn turns() -> Arc<Semaphore> {
    static TURNS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    TURNS
        .get_or_init(|| Arc::new(Semaphore::new(threads())))
        .clone()
}

/// Hashes running now, and the most that ever ran at once (tests read it).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Runs `work` on a hashing thread once one is free.
pub(super) async fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let turn = turns()
        .acquire_owned()
        .await
        .map_err(|e| PasswordError::Task(e.to_string()))?;
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _turn = turn;
        let now = IN_FLIGHT.fetch_add(1, SeqCst) + 1;
        PEAK.fetch_max(now, SeqCst);
        let out = work();
        IN_FLIGHT.fetch_sub(1, SeqCst);
        // The caller may have gone (request cancelled): nothing to tell.
        let _ = answer.send(out);
    });
    // Holding a turn means there is room in the queue: this never blocks.
    hashers()
        .try_send(job)
        .map_err(|_| PasswordError::Task("no password hashing thread is free".into()))?;
    answered
        .await
        .map_err(|_| PasswordError::Task("a password hashing thread stopped".into()))
}

/// The most hashes that ran at the same moment since the process started.
pub fn peak_concurrency() -> usize {
    PEAK.load(SeqCst)
}
