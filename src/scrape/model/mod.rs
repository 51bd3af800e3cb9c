//! The vocabulary every layer above speaks: what a page is, what a fetch answered, text
//! helpers, and the report's output types. Names no sibling layer.

pub mod naics;
pub mod page_type;
pub mod report;
pub mod response;
pub mod text;

pub use page_type::PageType;
pub use response::{Response, Validators, decode};
