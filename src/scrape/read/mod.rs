//! Page reading: what one HTML page says, each reader on its own. The document parsed with its
//! nesting cut, its lines and main content, its meta tags, links, contacts, structured data and
//! framework payloads, where it sends its reader on, its dates, the dated items it lists, whether it is a wall or a script shell, the technologies it
//! shows, the third parties it names, and feed documents.

pub mod contacts;
pub mod content;
pub mod dates;
pub mod feeds;
pub mod framework;
pub mod html;
pub mod lines;
pub mod links;
pub mod listing;
pub mod meta;
pub mod parties;
pub mod redirect;
pub mod structured;
pub mod tech;
pub mod wall;
