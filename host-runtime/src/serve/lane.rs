//! The big lane's threads. A big request's work (parsing, hashing and
//! classifying megabytes) runs on a thread of its own at a lower CPU
//! priority (nice +10 on Linux, where the nice value is per thread), so on
//! a machine whose cores are busy the scheduler gives small requests, the
//! reactor and everything else the cores first. How many run at once is
//! bounded by the big lane's semaphore (`big_lane_slots`): the thread holds
//! its slot until the work is done, even when the request that waited for
//! it is gone (a client that disconnects must not free a slot early).

use tokio::sync::OwnedSemaphorePermit;

/// Runs `f` on a new low-priority thread holding `slot`, and waits for its
/// result and the slot back.
pub(crate) async fn run<T: Send + 'static>(
    slot: OwnedSemaphorePermit,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<(T, OwnedSemaphorePermit), String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("dg-big-lane".into())
        .spawn(move || {
            lower_priority();
            let out = f();
            // When nobody waits any more, the slot is freed here, after the work.
            let _ = tx.send((out, slot));
        })
        .map_err(|e| format!("cannot start a big-lane thread: {e}"))?;
    rx.await.map_err(|_| "the big-lane thread failed".to_string())
}

/// Nice +10 for the calling thread, relative to the process's (glibc's
/// `nice` is `setpriority(PRIO_PROCESS, 0, ...)`, which on Linux applies to
/// the calling thread only). Elsewhere, and on failure, nothing.
fn lower_priority() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: a plain syscall wrapper with no pointers.
        unsafe {
            libc::nice(10);
        }
    }
}
