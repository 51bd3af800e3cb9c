//! Requests per key: a token bucket per key in each api process (`KRAWLR_RATE_LIMIT_PER_SECOND`
//! refill, `KRAWLR_RATE_LIMIT_BURST` capacity). With several api replicas behind a balancer,
//! each holds its own buckets, so a key's ceiling is the per-replica rate times the replicas.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets idle this long are full again and are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(600);

impl RateLimiter {
    /// `rate` tokens a second up to `burst`; a rate of 0 lets everything through.
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter { rate, burst: f64::from(burst.max(1)), buckets: Mutex::default() }
    }

    /// Takes a token for `key`, or says how long until one is there.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.at) < FORGET_AFTER);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket { tokens: self.burst, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// Event streams open per key in this api process, each held by a [`StreamSlot`] that gives
/// its place back when the stream ends or its client goes away.
pub struct StreamSlots {
    per_key: usize,
    open: Mutex<HashMap<String, usize>>,
}

pub struct StreamSlot {
    slots: std::sync::Arc<StreamSlots>,
    key: String,
}

impl StreamSlots {
    pub fn new(per_key: usize) -> StreamSlots {
        StreamSlots { per_key, open: Mutex::default() }
    }

    /// A place for one more stream of `key`, or how many it holds already.
    pub fn open(self: &std::sync::Arc<Self>, key: &str) -> Result<StreamSlot, usize> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(key.to_string()).or_default();
        if *count >= self.per_key {
            return Err(*count);
        }
        *count += 1;
        Ok(StreamSlot { slots: self.clone(), key: key.to_string() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let limiter = RateLimiter::new(10.0, 3);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(wait > Duration::from_millis(50) && wait <= Duration::from_millis(100), "{wait:?}");
        assert!(limiter.check("b").is_ok(), "each key has its own bucket");
        std::thread::sleep(Duration::from_millis(120));
        assert!(limiter.check("a").is_ok());
        assert!(RateLimiter::new(0.0, 1).check("a").is_ok());
    }
}
