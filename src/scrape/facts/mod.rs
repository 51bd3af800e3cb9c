//! Company facts read from a page's text: the legal name, register and directors, addresses,
//! phone numbers, the founding year, funding rounds and the stock ticker.

pub mod address;
pub mod founding;
pub mod funding;
pub mod labels;
pub mod legal;
pub mod phones;
pub mod registers;
pub mod ticker;
