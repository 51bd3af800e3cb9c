//! Real pages are content: none is taken for a bot wall.

/// None of the 952 real pages of `../shared/fixtures/real-pages/` (articles, company and shop
/// pages, all fetched as content) is taken for a wall, and none that shows text of its own
/// without its scripts is taken for a script-built shell (the few that are shells show none).
#[tokio::test(flavor = "multi_thread")]
async fn no_real_page_is_taken_for_a_wall() {
    use std::io::Read;
    let root = crate::shared("real-pages");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("cases.json")).unwrap()).unwrap();
    let cases = index["cases"].as_array().unwrap();
    let (mut walls, mut shells) = (Vec::new(), Vec::new());
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let url = url::Url::parse(case["url"].as_str().unwrap()).unwrap();
        let gz = std::fs::read(root.join("pages").join(format!("{id}.html.gz"))).unwrap();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut bytes).unwrap();
        let html = krawlr::scrape::model::decode(&bytes, None);
        let facts = krawlr::scrape::page::analyze(&html, &url);
        let visible = facts.text.chars().filter(|c| !c.is_whitespace()).count();
        match krawlr::scrape::read::wall::classify(200, &Default::default(), &html, visible) {
            krawlr::scrape::read::wall::Verdict::Blocked(wall) => walls.push(format!("{id} {url}: {wall:?}")),
            krawlr::scrape::read::wall::Verdict::JsRequired(seen)
                if visible >= krawlr::scrape::read::wall::SHELL_TEXT =>
            {
                shells.push(format!("{id} {url} ({visible} characters of text): {seen:?}"))
            }
            krawlr::scrape::read::wall::Verdict::JsRequired(_) => {}
            krawlr::scrape::read::wall::Verdict::Content => {}
        }
    }
    assert!(cases.len() > 900, "{} cases", cases.len());
    assert!(walls.is_empty(), "real pages taken for walls:\n{}", walls.join("\n"));
    assert!(shells.is_empty(), "pages with text of their own taken for shells:\n{}", shells.join("\n"));
}
