//! The bounded pool that CPU-heavy page work runs on (decoding, parsing, reading facts), off
//! the async runtime's threads: one huge page then stalls neither lease keeping, nor the API,
//! nor event streams in the same process. A panic in the work comes back to the awaiting task
//! as a panic, where the worker's supervision turns it into an attempt failure.

use std::sync::Arc;
use tokio::sync::Semaphore;

pub struct CpuPool {
    permits: Arc<Semaphore>,
}

impl CpuPool {
    /// At most `threads` pieces of work at once (at least one).
    pub fn new(threads: usize) -> CpuPool {
        CpuPool { permits: Arc::new(Semaphore::new(threads.max(1))) }
    }

    /// As many as the machine has cores.
    pub fn per_core() -> CpuPool {
        CpuPool::new(std::thread::available_parallelism().map_or(2, usize::from))
    }

    /// Runs `work` on a blocking thread once a place is free, inside the caller's tracing span.
    /// The place is held until `work` returns, even when the caller stops waiting (a timed-out
    /// attempt), so the pool's bound holds.
    pub async fn run<T, F>(&self, work: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permits.clone().acquire_owned().await.expect("the pool's semaphore is never closed");
        let span = tracing::Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _entered = span.enter();
            crate::failpoint!("page_analysis");
            work()
        });
        match task.await {
            Ok(value) => value,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => std::panic::resume_unwind(Box::new(format!("page work was cancelled: {e}"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_in_the_work_reaches_the_caller_and_frees_its_place() {
        let pool = CpuPool::new(1);
        let caught = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
            pool.run(|| -> u8 { panic!("bad page") }),
        ))
        .await;
        let message = caught.unwrap_err();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"bad page"));
        assert_eq!(pool.run(|| 7).await, 7, "the one place is free again");
    }
}
