//! Giving memory back after big requests.
//!
//! Two things keep a proxy's RSS high after a burst of big prompts. The
//! wasm instances' linear memory grows with the largest input each one
//! classified and never shrinks: instances above
//! `retire_instance_memory_bytes` are replaced in the pool by fresh ones,
//! made here before the swap (one instantiation each, about 150 ms of CPU
//! with the default pack on the dev machine), so no request waits for one.
//! And glibc's allocator keeps the pages of freed bodies in its arenas
//! (its mmap threshold rises to the size of the bodies it saw, so 4 MB
//! bodies are no longer mmapped and unmapped): `malloc_trim` hands the free
//! pages back. Both run off the reactor, at most once a second, only
//! after big requests finished.

use super::reload::Engine;
use crate::engine::Classifier;

/// What one trim gave back.
#[derive(Debug, Default)]
pub(crate) struct Trimmed {
    /// Idle wasm instances replaced.
    pub(crate) instances: usize,
    /// Why replacing them failed (the old ones then stay).
    pub(crate) error: Option<String>,
}

/// Retires the idle instances above `retire_above` bytes of linear memory
/// and returns the allocator's free pages to the OS. Blocking.
pub(crate) fn trim(engine: &Engine, retire_above: usize) -> Trimmed {
    let retired = match &engine.classifier {
        Classifier::Wasm(pool) => pool.retire_idle_above(retire_above),
        Classifier::Native { .. } => Ok(0),
    };
    release_free_heap();
    match retired {
        Ok(instances) => Trimmed { instances, error: None },
        Err(e) => Trimmed { instances: 0, error: Some(e.to_string()) },
    }
}

/// glibc's `malloc_trim(0)`: free pages of every arena go back to the OS.
/// A no-op with other allocators.
fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes no pointers and only walks glibc's own
        // arenas under their locks; it is safe to call from any thread.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
