//! The polite fetcher against local sites: caps, timeouts, redirects, robots, host limits,
//! compression and charsets.

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use krawlr::config::Settings;
use krawlr::net::guard::Policy;
use krawlr::net::{Lookup, NetError};
use krawlr::scrape::acquire::fetch::{FetchError, Fetcher};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// `<html><head><title>Gzipped café</title></head></html>`, gzip-compressed.
const GZIPPED: [u8; 63] = [
    31, 139, 8, 0, 239, 209, 10, 107, 2, 255, 179, 201, 40, 201, 205, 177, 179, 201, 72, 77, 76, 177, 179, 41, 201, 44,
    201, 73, 181, 115, 175, 202, 44, 40, 72, 77, 81, 72, 78, 76, 59, 188, 210, 70, 31, 34, 104, 163, 15, 81, 162, 15,
    86, 15, 0, 90, 194, 198, 61, 54, 0, 0, 0,
];

fn fetcher(tweak: impl FnOnce(&mut krawlr::config::FetchSettings)) -> Fetcher {
    let vars = HashMap::from([
        ("KRAWLR_ALLOW_PRIVATE_NETWORKS".to_string(), "true".to_string()),
        ("KRAWLR_PER_HOST_DELAY_SECONDS".to_string(), "0".to_string()),
    ]);
    let mut settings = Settings::from_vars(vars).unwrap().fetch;
    tweak(&mut settings);
    Fetcher::new(settings).unwrap()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

fn url(base: &str, path: &str) -> Url {
    Url::parse(&format!("{base}{path}")).unwrap()
}

fn site() -> Router {
    Router::new()
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/hop", get(|| async { Redirect::permanent("/landing") }))
        .route("/landing", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<title>landed</title>") }))
        .route("/to-ftp", get(|| async { Redirect::temporary("ftp://example.com/") }))
        .route("/to-creds", get(|| async { Redirect::temporary("http://user:pw@example.com/") }))
        .route("/huge", get(|| async { "x".repeat(10 << 20) }))
        .route("/endless", get(|| async { Response::new(Body::from_stream(chunks(64 * 1024, Duration::ZERO))) }))
        .route("/trickle", get(|| async { Response::new(Body::from_stream(chunks(1, Duration::from_millis(200)))) }))
        .route(
            "/gzip",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_ENCODING, "gzip")],
                    GZIPPED.to_vec(),
                )
            }),
        )
        .route(
            "/latin1",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/html")], b"<meta charset=iso-8859-1><p>Caf\xe9</p>".to_vec())
            }),
        )
        .route("/private/page", get(|| async { "secret" }))
        .route("/robots.txt", get(|| async { "User-agent: krawlr\nDisallow: /private/\n" }))
        .route("/gone", get(|| async { StatusCode::GONE.into_response() }))
}

/// An endless body: `size`-byte chunks, each after `pause`.
fn chunks(size: usize, pause: Duration) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::unfold((), move |()| async move {
        tokio::time::sleep(pause).await;
        Some((Ok(vec![b'a'; size]), ()))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_followed_checked_and_limited() {
    let base = serve(site()).await;
    let f = fetcher(|s| s.max_redirects = 5);
    let page = f.get(&url(&base, "/hop")).await.unwrap();
    assert_eq!(page.url.path(), "/landing");
    assert_eq!(page.text(), "<title>landed</title>");
    let err = f.get(&url(&base, "/loop")).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { max: 5, .. }), "{err}");
    assert!(!err.is_transient());
    for path in ["/to-ftp", "/to-creds"] {
        let err = f.get(&url(&base, path)).await.unwrap_err();
        assert!(matches!(err, FetchError::Net(NetError::Refused { .. })), "{path}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_is_refused_unless_allowed() {
    let base = serve(site()).await;
    let f = fetcher(|s| s.guard = Default::default());
    let err = f.get(&url(&base, "/landing")).await.unwrap_err();
    assert!(matches!(err, FetchError::Net(NetError::Refused { .. })), "{err}");
    let by_name = base.replace("127.0.0.1", "localhost");
    let err = f.get(&url(&by_name, "/landing")).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Net(NetError::Refused { .. }) | FetchError::Net(NetError::ForbiddenAddress { .. })),
        "{err}"
    );
}

/// A stand-in for DNS: each name's answers in turn, the last one repeated; counts lookups.
fn dns(answers: &[(&str, &[&[&str]])]) -> (Lookup, Arc<AtomicUsize>) {
    let table: HashMap<String, Vec<Vec<IpAddr>>> = answers
        .iter()
        .map(|(name, rounds)| {
            (name.to_string(), rounds.iter().map(|r| r.iter().map(|ip| ip.parse().unwrap()).collect()).collect())
        })
        .collect();
    let asked: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let total = Arc::new(AtomicUsize::new(0));
    let counter = total.clone();
    let lookup: Lookup = Arc::new(move |host: String| {
        counter.fetch_add(1, Ordering::SeqCst);
        let round = {
            let mut asked = asked.lock().unwrap();
            let n = asked.entry(host.clone()).or_default();
            *n += 1;
            *n - 1
        };
        let found = table.get(&host).map(|rounds| rounds[round.min(rounds.len() - 1)].clone());
        Box::pin(async move { found.ok_or_else(|| std::io::Error::other(format!("{host}: no such name"))) })
    });
    (lookup, total)
}

#[tokio::test(flavor = "multi_thread")]
async fn private_names_redirects_and_rebinding_are_refused() {
    // 127.0.0.1 plays a public address (the one allowed network); 127.0.0.2, on the same port,
    // plays the private service an attacker wants reached, and counts what reaches it.
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = public.local_addr().unwrap().port();
    let private = tokio::net::TcpListener::bind(("127.0.0.2", port)).await.unwrap();
    let reached = Arc::new(AtomicUsize::new(0));
    let hits = reached.clone();
    let secret = Router::new().fallback(move || {
        hits.fetch_add(1, Ordering::SeqCst);
        async { "secret" }
    });
    tokio::spawn(async move { axum::serve(private, secret).await.unwrap() });
    let site = Router::new()
        .route("/landing", get(|| async { "<title>landed</title>" }))
        .route("/to-literal", get(move || async move { Redirect::temporary(&format!("http://127.0.0.2:{port}/")) }))
        .route("/to-name", get(move || async move { Redirect::temporary(&format!("http://evil.test:{port}/")) }))
        .route("/to-metadata", get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }))
        .route("/to-v6", get(move || async move { Redirect::temporary(&format!("http://[::ffff:127.0.0.2]:{port}/")) }))
        // Every answer closes its connection, so each request resolves the name anew.
        .layer(axum::middleware::map_response(|mut r: Response| async move {
            r.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            r
        }));
    tokio::spawn(async move { axum::serve(public, site).await.unwrap() });
    let (lookup, lookups) = dns(&[
        ("public.test", &[&["127.0.0.1"]]),
        ("evil.test", &[&["127.0.0.2"]]),
        ("mixed.test", &[&["127.0.0.2", "127.0.0.1"]]),
        ("rebind.test", &[&["127.0.0.1"], &["127.0.0.2"]]),
    ]);
    let mut settings = fetcher(|_| {}).settings().clone();
    settings.guard = Policy { treat_as_public: vec!["127.0.0.1".parse().unwrap()], ..Policy::default() };
    let f = Fetcher::with_lookup(settings, lookup).unwrap();
    let at = |host: &str, path: &str| Url::parse(&format!("http://{host}:{port}{path}")).unwrap();

    assert_eq!(f.get(&at("public.test", "/landing")).await.unwrap().text(), "<title>landed</title>");
    let err = f.get(&at("evil.test", "/")).await.unwrap_err();
    assert!(
        matches!(err, FetchError::Net(NetError::ForbiddenAddress { .. })),
        "a name resolving to a private address: {err}"
    );
    assert!(!err.is_transient());
    let page = f.get(&at("mixed.test", "/landing")).await.unwrap();
    assert_eq!(page.text(), "<title>landed</title>", "of a mixed answer only the allowed address is used");
    for path in ["/to-literal", "/to-v6", "/to-metadata"] {
        let err = f.get(&at("public.test", path)).await.unwrap_err();
        assert!(matches!(err, FetchError::Net(NetError::Refused { .. })), "{path}: {err}");
    }
    let err = f.get(&at("public.test", "/to-name")).await.unwrap_err();
    assert!(matches!(err, FetchError::Net(NetError::ForbiddenAddress { .. })), "/to-name: {err}");
    // Rebinding: the first answer is allowed (robots.txt is fetched from it); the next
    // connection's lookup answers the private address, and is refused.
    let before = lookups.load(Ordering::SeqCst);
    let err = f.get(&at("rebind.test", "/landing")).await.unwrap_err();
    assert!(matches!(err, FetchError::Net(NetError::ForbiddenAddress { .. })), "rebinding: {err}");
    assert_eq!(lookups.load(Ordering::SeqCst) - before, 2, "robots.txt, then the page, each looked up");
    assert_eq!(reached.load(Ordering::SeqCst), 0, "nothing reached the private service");
    // The same private service is there, and reached, when its address is allowed.
    let open = Fetcher::new(fetcher(|_| {}).settings().clone()).unwrap();
    assert_eq!(open.get(&Url::parse(&format!("http://127.0.0.2:{port}/")).unwrap()).await.unwrap().text(), "secret");
    assert_eq!(reached.load(Ordering::SeqCst), 2, "robots.txt and the page");
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_are_capped_and_slow_ones_time_out() {
    let base = serve(site()).await;
    let f = fetcher(|s| {
        s.max_body_bytes = 1 << 20;
        s.total_timeout = Duration::from_secs(2);
        s.read_timeout = Duration::from_secs(1);
    });
    let page = f.get(&url(&base, "/huge")).await.unwrap();
    assert_eq!(page.body.len(), 1 << 20);
    assert!(page.truncated);
    let started = Instant::now();
    let page = f.get(&url(&base, "/endless")).await.unwrap();
    assert!(page.truncated && page.body.len() == 1 << 20);
    assert!(started.elapsed() < Duration::from_secs(2));
    let started = Instant::now();
    let err = f.get(&url(&base, "/trickle")).await.unwrap_err();
    assert!(matches!(err, FetchError::Net(NetError::Timeout { .. })), "{err}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn compression_and_charsets_are_decoded() {
    let base = serve(site()).await;
    let f = fetcher(|_| {});
    assert_eq!(
        f.get(&url(&base, "/gzip")).await.unwrap().text(),
        "<html><head><title>Gzipped café</title></head></html>"
    );
    assert!(f.get(&url(&base, "/latin1")).await.unwrap().text().ends_with("<p>Café</p>"));
    let err = f.get(&url(&base, "/gone")).await.unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 410, .. }) && !err.is_transient(), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_txt_is_obeyed() {
    let base = serve(site()).await;
    let f = fetcher(|_| {});
    let err = f.get(&url(&base, "/private/page")).await.unwrap_err();
    assert!(matches!(err, FetchError::RobotsDisallowed { .. }), "{err}");
    assert!(f.get(&url(&base, "/landing")).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn per_host_concurrency_and_delay_hold() {
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (n, p) = (now.clone(), peak.clone());
    let router = Router::new().route(
        "/{page}",
        get(move || {
            let (n, p) = (n.clone(), p.clone());
            async move {
                let inside = n.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(inside, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                "<p>ok</p>"
            }
        }),
    );
    let base = serve(router).await;
    let f = Arc::new(fetcher(|s| s.per_host_concurrency = 2));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (f, u) = (f.clone(), url(&base, &format!("/p{i}")));
        tasks.push(tokio::spawn(async move { f.get(&u).await.map(|_| ()) }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2, "never more than 2 at once on one host");

    let spaced = Arc::new(fetcher(|s| s.per_host_delay = Duration::from_millis(150)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (f, u) = (spaced.clone(), url(&base, &format!("/q{i}")));
        tasks.push(tokio::spawn(async move { f.get(&u).await.map(|_| ()) }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    // robots.txt and 4 pages: 5 request starts, 150 ms apart.
    assert!(started.elapsed() >= Duration::from_millis(600), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_rules_are_kept_for_their_ttl_then_fetched_again() {
    let robots = Arc::new(AtomicUsize::new(0));
    let counted = robots.clone();
    let router = Router::new()
        .route(
            "/robots.txt",
            get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { "User-agent: *\nDisallow: /private/\n" }
            }),
        )
        .route("/{page}", get(|| async { "<p>ok</p>" }));
    let base = serve(router).await;
    let f = fetcher(|s| s.robots_ttl = Duration::from_millis(400));
    for page in ["/a", "/b", "/c"] {
        f.get(&url(&base, page)).await.unwrap();
    }
    assert_eq!(robots.load(Ordering::SeqCst), 1, "read once while fresh");
    tokio::time::sleep(Duration::from_millis(450)).await;
    f.get(&url(&base, "/d")).await.unwrap();
    assert_eq!(robots.load(Ordering::SeqCst), 2, "read again once stale");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_proxy_is_used_only_for_targets_the_guard_allows() {
    let (proxy_url, asked) = crate::helpers::proxy().await;
    let (lookup, _) = dns(&[("public.test", &[&["127.0.0.1"]]), ("intranet-db.corp.test", &[&["10.1.2.3"]])]);
    let mut settings = fetcher(|_| {}).settings().clone();
    settings.guard = Policy { treat_as_public: vec!["127.0.0.1".parse().unwrap()], ..Policy::default() };
    settings.proxy = Some(proxy_url);
    let f = Fetcher::with_lookup(settings, lookup).unwrap();
    // The proxy would resolve the name itself: krawlr resolves and checks it first.
    let err = f.get(&Url::parse("http://intranet-db.corp.test:8080/").unwrap()).await.unwrap_err();
    assert!(matches!(err, FetchError::Net(NetError::ForbiddenAddress { .. })), "{err}");
    for refused in ["http://127.0.0.2:8080/", "http://169.254.169.254/latest/meta-data/", "http://localhost:8080/"] {
        let err = f.get(&Url::parse(refused).unwrap()).await.unwrap_err();
        assert!(matches!(err, FetchError::Net(NetError::Refused { .. })), "{refused}: {err}");
    }
    assert!(asked.lock().unwrap().is_empty(), "the proxy was asked for nothing refused: {:?}", asked.lock().unwrap());
    let page = f.get(&Url::parse("http://public.test:8080/landing").unwrap()).await.unwrap();
    assert_eq!(page.text(), "<title>through the proxy</title>");
    let asked = asked.lock().unwrap().clone();
    assert!(
        asked.iter().any(|u| u == "http://public.test:8080/landing"),
        "an allowed target goes through it: {asked:?}"
    );
}
