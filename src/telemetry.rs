//! Logging: `tracing` to stderr, filtered by `KRAWLR_LOG` (default `info`), human-readable or
//! one JSON object per line (`KRAWLR_LOG_FORMAT=json`, with the fields of every enclosing span:
//! `job_id`, `attempt`, `stage`). Standard output is kept for what a command prints (the report,
//! the listening address, a new key).

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str, json: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init()
    };
    log_panics();
}

/// A panic becomes one error log line (with the enclosing spans' fields, such as `job_id`)
/// instead of a trace on stderr; whoever catches it (the worker's supervision, a command)
/// decides what it means.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        tracing::error!(panic = message, %location, "internal error (a panic)");
    }));
}

/// An error and its causes on one line (`a: b: c`), for logs and stored error messages.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let cause = e.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = e.source();
    }
    text
}
