//! A site's robots.txt, read for krawlr within a bounded cost. The parser (`texting_robots`)
//! compiles one regular expression for each rule ending in `$`; a hostile file of such rules
//! cost hundreds of megabytes per site. So before it parses anything, a file is measured: past
//! the limits below it is not parsed at all and, as RFC 9309 §2.3.1.4 says of a robots.txt
//! whose rules cannot be known, everything on the site is taken as disallowed. The report
//! then says why.

use std::time::Duration;

/// The token robots.txt rules are matched against.
pub const AGENT: &str = "krawlr";
/// What of a robots.txt is read: RFC 9309 §2.5 asks for at least 500 KiB.
pub const MAX_BYTES: usize = 512 * 1024;
/// `Allow` and `Disallow` lines one file may have (every group counted). Large real files have
/// a few thousand.
pub const MAX_RULES: usize = 20_000;
/// Rules ending in `$` (each becomes a regular expression) one file may have.
pub const MAX_END_ANCHORED: usize = 500;
/// Bytes of the patterns of those rules, together.
pub const MAX_END_ANCHORED_BYTES: usize = 32 * 1024;
/// What a rule ending in `$` costs once compiled and first matched, measured (see the test
/// `an_end_anchored_rule_costs_about_what_is_charged`), with room to spare.
const END_ANCHORED_COST: usize = 16 * 1024;
/// What any other rule costs beside its pattern: its strings and their place in a list.
const RULE_COST: usize = 64;
const MAX_CRAWL_DELAY: Duration = Duration::from_secs(10);

/// One site's robots.txt, as far as krawlr is concerned.
#[derive(Debug)]
pub enum Robots {
    /// No robots.txt (a 4xx), or one that says nothing parseable: everything is allowed.
    Absent,
    Rules(texting_robots::Robot),
    /// A file past the limits, never parsed: everything is disallowed.
    OverLimits(OverLimits),
}

/// Why a robots.txt was not parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverLimits {
    pub rules: usize,
    pub end_anchored: usize,
    pub end_anchored_bytes: usize,
}

impl std::fmt::Display for OverLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rules, {} ending in `$` with {} bytes of patterns (krawlr reads at most {MAX_RULES} rules, \
             {MAX_END_ANCHORED} ending in `$`, {MAX_END_ANCHORED_BYTES} bytes of those); taken as disallowing \
             everything, as RFC 9309 says of rules that cannot be known",
            self.rules, self.end_anchored, self.end_anchored_bytes
        )
    }
}

/// What a file's rules would cost to parse, counted line by line without parsing them.
#[derive(Debug, Default)]
struct Census {
    rules: usize,
    end_anchored: usize,
    end_anchored_bytes: usize,
    pattern_bytes: usize,
}

impl Census {
    fn of(body: &[u8]) -> Census {
        let mut census = Census::default();
        for line in body.split(|b| *b == b'\n' || *b == b'\r' || *b == 0) {
            let line = line.split(|b| *b == b'#').next().unwrap_or_default();
            let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
            let (field, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
            if !(field.eq_ignore_ascii_case(b"allow") || field.eq_ignore_ascii_case(b"disallow")) {
                continue;
            }
            census.rules += 1;
            census.pattern_bytes += value.len();
            if value.contains(&b'$') {
                census.end_anchored += 1;
                census.end_anchored_bytes += value.len();
            }
        }
        census
    }

    fn over_limits(&self) -> Option<OverLimits> {
        (self.rules > MAX_RULES
            || self.end_anchored > MAX_END_ANCHORED
            || self.end_anchored_bytes > MAX_END_ANCHORED_BYTES)
            .then_some(OverLimits {
                rules: self.rules,
                end_anchored: self.end_anchored,
                end_anchored_bytes: self.end_anchored_bytes,
            })
    }
}

impl Robots {
    /// krawlr's rules in a robots.txt body (at most [`MAX_BYTES`] of it are read). CPU work of
    /// up to some tens of milliseconds: run it off the async runtime.
    pub fn parse(body: &[u8]) -> (Robots, usize) {
        let body = &body[..body.len().min(MAX_BYTES)];
        let census = Census::of(body);
        if let Some(over) = census.over_limits() {
            return (Robots::OverLimits(over), std::mem::size_of::<Robots>());
        }
        let cost = body.len()
            + census.rules * RULE_COST
            + census.pattern_bytes
            + census.end_anchored * END_ANCHORED_COST
            + std::mem::size_of::<Robots>();
        match texting_robots::Robot::new(AGENT, body) {
            Ok(robot) => (Robots::Rules(robot), cost),
            Err(_) => (Robots::Absent, std::mem::size_of::<Robots>()),
        }
    }

    /// Whether krawlr may fetch `url`.
    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Robots::Absent => true,
            Robots::Rules(robot) => robot.allowed(url),
            Robots::OverLimits(_) => false,
        }
    }

    /// The file's `Crawl-delay` for krawlr, as a bounded pause.
    pub fn delay(&self) -> Option<Duration> {
        match self {
            Robots::Rules(robot) => robot.delay.map(crawl_delay),
            _ => None,
        }
    }

    /// Whether the site serves a robots.txt at all.
    pub fn exists(&self) -> bool {
        !matches!(self, Robots::Absent)
    }

    pub fn sitemaps(&self) -> &[String] {
        match self {
            Robots::Rules(robot) => &robot.sitemaps,
            _ => &[],
        }
    }
}

/// A robots.txt `Crawl-delay` as a pause: whatever number a site writes (`inf`, `1e20`, `NaN`,
/// negative) becomes one from zero to [`MAX_CRAWL_DELAY`].
pub fn crawl_delay(seconds: f32) -> Duration {
    if seconds.is_nan() || seconds <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f32(seconds).map_or(MAX_CRAWL_DELAY, |d| d.min(MAX_CRAWL_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_anchored(n: usize) -> String {
        (0..n).map(|i| format!("Disallow: /p{i}/*.x$\n")).collect()
    }

    #[test]
    fn a_file_within_the_limits_is_obeyed() {
        let body = format!("User-agent: *\nDisallow: /private\nAllow: /private/ok$\n{}", end_anchored(10));
        let (robots, cost) = Robots::parse(body.as_bytes());
        assert!(!robots.allowed("https://a.example/private/x"));
        assert!(robots.allowed("https://a.example/private/ok"));
        assert!(!robots.allowed("https://a.example/p3/q.x"));
        assert!(robots.allowed("https://a.example/public"));
        assert!(cost >= 10 * END_ANCHORED_COST, "{cost}");
    }

    #[test]
    fn a_file_past_the_limits_disallows_everything_and_costs_nothing() {
        for body in [
            end_anchored(MAX_END_ANCHORED + 1),
            format!("Disallow: /{}$\n", "a".repeat(MAX_END_ANCHORED_BYTES)),
            "Disallow: /a\n".repeat(MAX_RULES + 1),
        ] {
            let (robots, cost) = Robots::parse(body.as_bytes());
            let Robots::OverLimits(over) = &robots else { panic!("parsed: {robots:?}") };
            assert!(over.to_string().contains("disallowing everything"));
            assert!(!robots.allowed("https://a.example/"));
            assert!(robots.exists());
            assert!(cost < 1024);
        }
    }

    #[test]
    fn rules_are_counted_whatever_their_spelling() {
        let census = Census::of(b"DISALLOW : /a$ # x\r\nallow:/b\0disallow: /c # $\nUser-agent: $\nnoise $\n");
        assert_eq!((census.rules, census.end_anchored), (3, 1));
    }

    #[test]
    fn crawl_delays_are_bounded_pauses() {
        assert_eq!(crawl_delay(f32::NEG_INFINITY), Duration::ZERO);
        assert_eq!(crawl_delay(1.5), Duration::from_millis(1500));
        let written = [("2", 2.0), ("0.5", 0.5), ("inf", 10.0), ("1e20", 10.0), ("-3", 0.0), ("NaN", 0.0)];
        for (written, expected) in written {
            let (robots, _) = Robots::parse(format!("User-agent: *\nCrawl-delay: {written}\n").as_bytes());
            assert_eq!(robots.delay().unwrap_or_default().as_secs_f32(), expected, "{written}");
        }
    }

    /// The charge for a rule ending in `$` covers what it really takes: a file of the most such
    /// rules allowed, compiled and matched, holds less heap than it is charged (about 12.6 KB a
    /// rule was measured, against 16 KB charged).
    #[test]
    fn an_end_anchored_rule_costs_about_what_is_charged() {
        let body =
            (0..MAX_END_ANCHORED).map(|i| format!("Disallow: /{i}*{}*x$\n", "ab".repeat(i % 16))).collect::<String>();
        let before = heap::live();
        let (robots, cost) = Robots::parse(body.as_bytes());
        assert!(robots.allowed("https://a.example/page"));
        let held = heap::live() - before;
        assert!(held > 0 && held as usize <= cost, "holds {held} bytes, charged {cost}");
        drop(robots);
    }

    /// Heap bytes this thread holds, counted by the unit tests' allocator.
    mod heap {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            static LIVE: Cell<isize> = const { Cell::new(0) };
        }

        struct Counting;

        // SAFETY: every call is passed on to the system allocator unchanged.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                let _ = LIVE.try_with(|l| l.set(l.get() + layout.size() as isize));
                unsafe { System.alloc(layout) }
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                let _ = LIVE.try_with(|l| l.set(l.get() - layout.size() as isize));
                unsafe { System.dealloc(ptr, layout) }
            }
            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                let _ = LIVE.try_with(|l| l.set(l.get() + new_size as isize - layout.size() as isize));
                unsafe { System.realloc(ptr, layout, new_size) }
            }
        }

        #[global_allocator]
        static COUNTING: Counting = Counting;

        pub fn live() -> isize {
            LIVE.with(Cell::get)
        }
    }
}
