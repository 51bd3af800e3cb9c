//! What a fetch answered: the response, its validators, and its body as text.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use std::time::Duration;
use url::Url;

/// What a response said to ask later whether it changed (`If-None-Match`, `If-Modified-Since`);
/// a report keeps them beside each page and feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Validators {
    /// The `ETag` it sent (a monitor's next run asks `If-None-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The `Last-Modified` it sent (a monitor's next run asks `If-Modified-Since`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether there is nothing to ask with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// A fetched response with a successful status.
#[derive(Debug, Clone)]
pub struct Response {
    /// Where the body came from, after redirects.
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than the cap and was cut there.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Response {
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }

    /// HTML by its declared type, or by its first bytes when no type is declared.
    pub fn is_html(&self) -> bool {
        match self.content_type() {
            Some(ct) => {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("text/html") || ct.starts_with("application/xhtml")
            }
            None => {
                let head = String::from_utf8_lossy(&self.body[..self.body.len().min(512)]).to_ascii_lowercase();
                head.contains("<html") || head.contains("<!doctype html")
            }
        }
    }

    /// Its `ETag` and `Last-Modified`, to ask later whether it changed.
    pub fn validators(&self) -> Validators {
        let header = |name| self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        Validators { etag: header(reqwest::header::ETAG), last_modified: header(reqwest::header::LAST_MODIFIED) }
    }

    /// The body decoded to text: BOM, then the `Content-Type` charset, then a `<meta>` charset
    /// in the first 1024 bytes, then UTF-8.
    pub fn text(&self) -> String {
        decode(&self.body, self.content_type())
    }
}

pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let label = content_type.and_then(charset_param).or_else(|| sniff_meta_charset(&body[..body.len().min(1024)]));
    let encoding = label.and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes())).unwrap_or(encoding_rs::UTF_8);
    encoding.decode(body).0.into_owned()
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

fn sniff_meta_charset(head: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let value: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_declared_and_sniffed_charsets() {
        let latin1 = b"<p>Caf\xe9</p>";
        assert_eq!(decode(latin1, Some("text/html; charset=ISO-8859-1")), "<p>Café</p>");
        let meta = b"<meta charset=\"windows-1252\"><p>Caf\xe9</p>";
        assert!(decode(meta, Some("text/html")).ends_with("Café</p>"));
        let http_equiv = b"<meta http-equiv=Content-Type content='text/html; charset=Shift_JIS'>\x93\xfa";
        assert!(decode(http_equiv, None).ends_with('日'));
        assert_eq!(decode("naïve".as_bytes(), None), "naïve");
        assert_eq!(decode(b"\xef\xbb\xbfbom", Some("text/html; charset=latin1")), "bom");
    }
}
