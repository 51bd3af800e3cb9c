//! Sitemaps and sitemap indexes: their `<loc>` entries, read with quick-xml.

use quick_xml::events::Event;

/// Sitemap URLs read at most, over all sitemaps.
const MAX_SITEMAP_URLS: usize = 5_000;

/// `<loc>` entries of a sitemap or sitemap index.
pub fn sitemap_locs(xml: &[u8]) -> (Vec<String>, bool) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let (mut locs, mut index, mut in_loc) = (Vec::new(), false, false);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = e.local_name().into_inner();
                index |= name == "sitemapindex";
                in_loc = name == "loc";
            }
            Ok(Event::Text(t)) if in_loc => locs.push(unescape(t.into_inner().trim())),
            Ok(Event::CData(t)) if in_loc => locs.push(t.into_inner().trim().to_string()),
            Ok(Event::End(_)) => in_loc = false,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        if locs.len() >= MAX_SITEMAP_URLS {
            break;
        }
        buf.clear();
    }
    (locs, index)
}

/// The five predefined XML entities; sitemaps escape `&` in URLs.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemaps_and_indexes_are_read() {
        let xml = br#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc>https://acme.test/about</loc></url><url><loc> https://acme.test/team </loc></url></urlset>"#;
        assert_eq!(sitemap_locs(xml), (vec!["https://acme.test/about".into(), "https://acme.test/team".into()], false));
        let index =
            br#"<sitemapindex><sitemap><loc><![CDATA[https://acme.test/s1.xml]]></loc></sitemap></sitemapindex>"#;
        assert_eq!(sitemap_locs(index), (vec!["https://acme.test/s1.xml".into()], true));
    }
}
