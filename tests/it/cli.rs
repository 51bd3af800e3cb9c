//! The command line: settings errors, setup, keys.

use crate::helpers::{Client, TestEnv};

#[test]
fn an_invalid_setting_stops_the_start_and_names_itself() {
    let env = TestEnv::new();
    for (name, value) in [
        ("KRAWLR_WORKER_CONCURRENCY", "zero"),
        ("KRAWLR_LISTEN", "not-an-address"),
        ("KRAWLR_ACK_DEADLINE_SECONDS", "0"),
        ("KRAWLR_ALLOW_PRIVATE_NETWORKS", "perhaps"),
    ] {
        let (code, _, err) = TestEnv::new().set(name, value).run(&["up"]);
        assert_eq!(code, 2, "{name}={value}: {err}");
        assert!(err.contains(name), "{name}: {err}");
    }
    let (code, _, err) = env.run(&["--bogus"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn settings_are_read_from_a_dot_env_file_without_overriding_the_environment() {
    let env = TestEnv::new();
    std::fs::write(env.dir.path().join(".env"), "KRAWLR_MAX_DELIVERY_ATTEMPTS=lots\n").unwrap();
    let (code, _, err) = env.run(&["setup"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("KRAWLR_MAX_DELIVERY_ATTEMPTS"), "{err}");
    let (code, _, err) = env.set("KRAWLR_MAX_DELIVERY_ATTEMPTS", "7").run(&["setup"]);
    assert_eq!(code, 0, "the environment wins over .env: {err}");
}

#[test]
fn setup_is_idempotent_and_says_so() {
    let env = TestEnv::new();
    let (code, out, err) = env.run(&["setup"]);
    assert_eq!(code, 0, "{err}");
    for name in [
        "topic scrape-jobs",
        "topic scrape-progress",
        "topic scrape-completed",
        "topic scrape-jobs-dead-letter",
        "subscription scrape-jobs-sub",
    ] {
        assert!(out.contains(&format!("created {name}\n")), "{name} missing from:\n{out}");
    }
    let (code, out, _) = env.run(&["setup"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("nothing to do"), "{out}");
    let (_, out, _) = TestEnv::new().run(&["setup"]);
    assert!(out.contains("created"));
    // A changed setting updates the subscription.
    let env = env.set("KRAWLR_ACK_DEADLINE_SECONDS", "30");
    let (_, out, _) = env.run(&["setup"]);
    assert!(out.contains("updated subscription scrape-jobs-sub"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_created_listed_revoked_and_stored_hashed() {
    let env = TestEnv::new();
    let (code, out, err) = env.run(&["keys", "create", "--name", "ci"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let (secret, webhook_secret) = (lines[0].to_string(), lines[1]);
    assert!(secret.starts_with("kr_") && secret.len() > 40, "{secret}");
    assert!(webhook_secret.starts_with("whsec_"), "{out}");
    let (_, list, _) = env.run(&["keys", "list"]);
    let line = list.lines().find(|l| l.ends_with(" ci")).unwrap();
    assert!(line.contains("active"), "{list}");
    assert!(!list.contains(&secret), "list shows no secret");
    let stored = stored_values(&env);
    assert!(stored.iter().any(|v| v == &secret[..10]), "the display prefix is kept");
    assert_no_part_stored(&stored, &secret[10..], "the key beyond its display prefix");
    assert_no_part_stored(&stored, &webhook_secret[6..], "its webhook secret in the clear");

    let (_api, base) = env.serve("api", "api").await;
    let client = Client::new(&base, &secret);
    assert_eq!(client.get("/api/v1/scrape/status/x").await.0, 404, "the key works");
    let id = line.split_whitespace().next().unwrap();
    let (code, out, _) = env.run(&["keys", "revoke", id]);
    assert_eq!(code, 0);
    assert!(out.contains("revoked"));
    let (status, body) = client.get("/api/v1/scrape/status/x").await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("invalid_api_key")));
    let (code, _, err) = env.run(&["keys", "revoke", id]);
    assert_eq!(code, 1, "revoking twice is an error: {err}");
}

/// Every value of every table, read through SQLite (so the WAL's pages count too), as text.
fn stored_values(env: &TestEnv) -> Vec<String> {
    let db = rusqlite::Connection::open_with_flags(
        env.data_dir().join("krawlr.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut values = Vec::new();
    for table in tables {
        let mut rows = db.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = rows.column_count();
        let mut rows = rows.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                values.push(match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    other => format!("{other:?}"),
                });
            }
        }
    }
    assert!(values.len() > 5, "read the tables: {values:?}");
    values
}

/// No 6-character run of `secret` stands in any stored value.
fn assert_no_part_stored(stored: &[String], secret: &str, what: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for run in chars.windows(6).map(String::from_iter) {
        assert!(!stored.iter().any(|v| v.contains(&run)), "{what}: {run:?} is stored");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_part_of_an_operator_s_key_is_stored() {
    let env = TestEnv::new();
    let operator_key = crate::helpers::KEY;
    let (api, base) = env.serve("api", "api").await;
    assert_eq!(Client::new(&base, operator_key).get("/api/v1/scrape/status/x").await.0, 404, "the key works");
    let stored = stored_values(&env);
    drop(api);
    assert_no_part_stored(&stored, operator_key, "the operator's key");
    let (_, list, _) = env.run(&["keys", "list"]);
    let line = list.lines().find(|l| l.ends_with("KRAWLR_API_KEY")).unwrap();
    assert_eq!(line.split_whitespace().nth(1), Some("-"), "no prefix to show: {list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn up_prints_a_first_key_once_when_none_exists() {
    let env = TestEnv::new().set("KRAWLR_API_KEY", "");
    let (mut up, base) = env.serve("up1", "up").await;
    let out = up.stdout();
    let key = out.lines().map(str::trim).find(|l| l.starts_with("kr_")).expect("a key printed").to_string();
    let client = Client::new(&base, &key);
    assert_eq!(client.get("/api/v1/scrape/status/x").await.0, 404, "the printed key works");
    up.signal("TERM");
    up.wait_exit(std::time::Duration::from_secs(10)).await;
    let (_again, _) = env.serve("up2", "up").await;
    assert!(!_again.stdout().contains("kr_"), "no second key printed");
}

#[test]
fn extract_prints_one_page_s_metadata() {
    let env = TestEnv::new();
    let page = env.dir.path().join("page.html");
    std::fs::write(&page, crate::helpers::COMPANY_HOME).unwrap();
    let (code, out, err) = env.run(&["extract", page.to_str().unwrap(), "--url", "https://acme.example/"]);
    assert_eq!(code, 0, "{err}");
    let meta: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(meta["title"], "Acme Rockets — launch anything", "the site's name cut off");
    assert_eq!(meta["publisher"], "Acme");
    assert_eq!(meta["lang"], "en");
    assert_eq!(meta["logo"], "https://acme.example/static/logo.svg");
    assert_eq!(meta["icons"][0]["size"], 32);
    assert_eq!(meta["json_ld"][0]["@type"], "Organization");
    assert_eq!(meta["social_profiles"]["twitter"], "https://x.com/acmerockets");
    let (code, _, err) = env.run(&["extract", "missing.html", "--url", "https://acme.example/"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read missing.html"), "{err}");
}

/// `krawlr submit | status | result | jobs | cancel` against a running server.
#[tokio::test(flavor = "multi_thread")]
async fn the_client_commands_drive_a_running_server() {
    use crate::helpers::Site;
    let site = Site::company(std::time::Duration::ZERO).await;
    let slow = Site::company(std::time::Duration::from_secs(5)).await;
    let env = TestEnv::new();
    let (_api, base) = env.serve("api", "api").await;
    let _worker = env.worker("worker").await;
    let run = |args: &[&str], url: &str, key: &str| {
        let out = env.command(args).env("KRAWLR_URL", url).env("KRAWLR_API_KEY", key).output().unwrap();
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
    };
    let key = crate::helpers::KEY;

    let (code, out, err) = run(&["submit", &site.url("/"), "--wait"], &base, key);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["company"]["name"], "Acme Rockets");
    assert!(err.contains("[100%] completed"), "progress from the event stream:\n{err}");

    let (code, id, err) = run(&["submit", &slow.url("/")], &base, key);
    assert_eq!(code, 0, "{err}");
    let id = id.trim();
    let (code, out, _) = run(&["status", id], &base, key);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["job_id"], id);
    let (code, _, err) = run(&["result", id], &base, key);
    assert_eq!(code, 3, "no report yet: {err}");
    let (code, out, _) = run(&["cancel", id], &base, key);
    assert_eq!((code, out.trim()), (0, format!("{id} cancelled").as_str()));
    let (code, out, _) = run(&["jobs"], &base, key);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3, "a header and two jobs:\n{out}");
    assert!(out.lines().nth(1).unwrap().contains("cancelled"), "newest first:\n{out}");

    let (code, _, err) = run(&["status", id], "http://127.0.0.1:9", key);
    assert_eq!(code, 1);
    assert!(err.contains("cannot reach krawlr at http://127.0.0.1:9 (KRAWLR_URL)"), "{err}");
    let (code, _, err) = run(&["jobs"], &base, "kr_not_a_key_at_all_0000");
    assert_eq!(code, 1);
    assert!(err.contains("the API key was refused (KRAWLR_API_KEY)"), "{err}");
    let (code, _, err) = run(&["status", "no-such-job"], &base, key);
    assert_eq!(code, 1);
    assert!(err.contains("job not found (HTTP 404)"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_environment_s_proxy_is_never_used() {
    let (proxy, asked) = crate::helpers::proxy().await;
    let mut env = TestEnv::new().set("KRAWLR_ALLOW_PRIVATE_NETWORKS", "false").set("KRAWLR_FETCH_TIMEOUT_SECONDS", "5");
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        env = env.set(name, proxy.as_str());
    }
    let (code, out, err) =
        tokio::task::spawn_blocking(move || env.run(&["scrape", "http://intranet-db.corp.test/"])).await.unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "no report: {out}");
    assert!(asked.lock().unwrap().is_empty(), "the proxy was asked: {:?}", asked.lock().unwrap());
}

/// The settings table of the README and the settings the code reads are the same set: every
/// `"KRAWLR_…"` name in `src/` has a row, and no row names one the code does not read.
#[test]
fn the_readme_s_settings_table_lists_exactly_the_settings_read() {
    fn names(text: &str, quoted: bool) -> std::collections::BTreeSet<String> {
        let mut found = std::collections::BTreeSet::new();
        let mut rest = text;
        let start = if quoted { "\"KRAWLR_" } else { "KRAWLR_" };
        while let Some(at) = rest.find(start) {
            let from = at + start.len() - "KRAWLR_".len();
            let name: String = rest[from..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let closed = !quoted || rest[from + name.len()..].starts_with('"');
            if closed && name.len() > "KRAWLR_".len() {
                found.insert(name.clone());
            }
            rest = &rest[from + name.len()..];
        }
        found
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut code = std::collections::BTreeSet::new();
    let mut dirs = vec![root.join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                code.extend(names(&std::fs::read_to_string(&path).unwrap(), true));
            }
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table = readme.split("\n## Settings\n").nth(1).unwrap().split("\n## ").next().unwrap();
    let rows: String = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
        .collect::<Vec<_>>()
        .join(" ");
    let documented = names(&rows, false);
    assert!(code.len() > 40, "{code:?}");
    let missing: Vec<&String> = code.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&code).collect();
    assert!(missing.is_empty(), "read by the code, missing from the README's settings table: {missing:?}");
    assert!(stale.is_empty(), "in the README's settings table, read nowhere: {stale:?}");
    // And the declarations are the settings read: each declared once.
    let declared: Vec<&str> = krawlr::config::declared::ALL.iter().map(|s| s.name).collect();
    let unique: std::collections::BTreeSet<String> = declared.iter().map(|n| n.to_string()).collect();
    assert_eq!(unique.len(), declared.len(), "a setting declared twice: {declared:?}");
    let undeclared: Vec<&String> = documented.difference(&unique).collect();
    assert!(undeclared.is_empty(), "documented but not declared: {undeclared:?}");
    let undocumented: Vec<&String> =
        unique.iter().filter(|n| n.starts_with("KRAWLR_")).filter(|n| !documented.contains(*n)).collect();
    assert!(undocumented.is_empty(), "declared but not documented: {undocumented:?}");
    // Each row shows its settings' declared defaults.
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        // Every backticked name in the first cell, `GCP_PROJECT_ID` and `PUBSUB_…` included.
        let in_row: std::collections::BTreeSet<&str> = cells[0].split('`').skip(1).step_by(2).collect();
        let shown: Vec<&str> =
            krawlr::config::declared::ALL.iter().filter(|s| in_row.contains(s.name)).map(|s| s.shown_default).collect();
        let expected = if in_row.len() > 1 && shown.iter().all(|d| *d == shown[0]) {
            shown[0].to_string()
        } else {
            shown.join(" / ")
        };
        assert!(
            cells[1] == expected || cells[1] == shown.join(" / "),
            "{}: the README shows {:?}, the code declares {expected:?}",
            cells[0],
            cells[1]
        );
    }
}
