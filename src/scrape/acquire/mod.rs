//! Acquisition, the only network awaits of a crawl: the polite fetcher and robots.txt, the
//! crawl and its sitemaps, rendering pages that need their scripts, and the CPU pool pages
//! are read on.

pub mod cpu;
pub mod crawl;
pub mod fetch;
pub mod render;
pub mod robots;
pub mod sitemaps;
