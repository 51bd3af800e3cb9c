//! The house's shape, read from the module paths every file of `src/` names (`crate::…`,
//! `super::…`): inside every folder (and at the top) the arrows between its files and subfolders
//! point one way, and `src/scrape`'s layers name only the layers below them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A folder's children (its files but `mod.rs`, and its subfolders) → the children their files
/// name. Keyed by the folder's module path (`""` for the crate's root, `"scrape"`, …).
type Graphs = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file of `src/` with its module path (`scrape/read/meta.rs` → `[scrape, read, meta]`).
fn files() -> Vec<(Vec<String>, String)> {
    let src = src();
    let mut found = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().with_extension("");
            let mut module: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                module.pop();
            }
            found.push((module, std::fs::read_to_string(&path).unwrap()));
        }
    }
    found
}

/// The module paths a file's text names, each as absolute components; `super::` inside a
/// file's `mod tests` names the file itself.
fn named_paths(module: &[String], text: &str) -> Vec<Vec<String>> {
    let tests_from = text.find("\nmod tests").unwrap_or(text.len());
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut paths = Vec::new();
    for anchor in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(anchor) {
            let start = from + at;
            from = start + anchor.len();
            // `super::super::x` is found once, from its first `super`.
            if start > 0 && text[..start].ends_with("::") {
                continue;
            }
            let path: String = text[start..].chars().take_while(|c| ident(*c)).collect();
            let mut base: Vec<String> = match anchor {
                "crate::" => Vec::new(),
                _ => {
                    // A file `a/b.rs` is module `a::b`, so its `super` is `a`; `a/b/mod.rs` is
                    // `a::b` too, and its `super` is `a` as well.
                    let own = if start >= tests_from { module.len() + 1 } else { module.len() };
                    module[..own.saturating_sub(1).min(module.len())].to_vec()
                }
            };
            let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            parts.remove(0); // the anchor
            while parts.first() == Some(&"super") {
                parts.remove(0);
                base.pop();
            }
            let rest = &text[start + path.len()..];
            let heads: Vec<Vec<String>> = if rest.starts_with('{') {
                let mut depth = 0;
                let mut items = vec![String::new()];
                for c in rest.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => items.push(String::new()),
                        _ if depth == 1 => items.last_mut().unwrap().push(c),
                        _ => {}
                    }
                }
                items
                    .iter()
                    .map(|i| i.trim().chars().take_while(|c| ident(*c)).collect::<String>())
                    .filter(|i| !i.is_empty() && i != "self")
                    .map(|i| i.split("::").filter(|p| !p.is_empty()).map(str::to_string).collect())
                    .collect()
            } else {
                vec![Vec::new()]
            };
            for head in heads {
                let mut full = base.clone();
                full.extend(parts.iter().map(|p| p.to_string()));
                full.extend(head);
                paths.push(full);
            }
        }
    }
    paths
}

fn graphs() -> Graphs {
    let src = src();
    let files = files();
    let is_module = |path: &[String]| {
        let joined: PathBuf = path.iter().collect();
        src.join(&joined).with_extension("rs").is_file() || src.join(&joined).is_dir()
    };
    let mut graphs = Graphs::new();
    for (module, text) in &files {
        // Every folder the file lies in (the root included) sees it as one of its children.
        for depth in 0..module.len() {
            let folder = &module[..depth];
            let child = &module[depth];
            let graph = graphs.entry(folder.join("::")).or_default();
            graph.entry(child.clone()).or_default();
            for path in named_paths(module, text) {
                if path.len() <= depth || path[..depth] != *folder {
                    continue;
                }
                let target = &path[depth];
                if target != child && is_module(&path[..=depth]) {
                    graph.get_mut(child).unwrap().insert(target.clone());
                }
            }
        }
    }
    graphs
}

/// The first import circle of a graph, if it has one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk<'a>(
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        at: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| *m == at) {
            let mut cycle: Vec<String> = path[start..].iter().map(|m| m.to_string()).collect();
            cycle.push(at.to_string());
            return Some(cycle);
        }
        if !done.insert(at) {
            return None;
        }
        path.push(at);
        for next in graph.get(at).into_iter().flatten() {
            if let Some(cycle) = walk(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|m| walk(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn no_folder_has_an_import_circle() {
    let graphs = graphs();
    assert!(graphs[""].len() > 10, "{graphs:?}");
    assert!(graphs.contains_key("scrape") && graphs.contains_key("api"), "{:?}", graphs.keys());
    let circles: Vec<String> = graphs
        .iter()
        .filter_map(|(folder, graph)| {
            let circle = circle(graph)?;
            let at = if folder.is_empty() { "src/".to_string() } else { format!("src/{}/", folder.replace("::", "/")) };
            Some(format!("{at}: {}", circle.join(" → ")))
        })
        .collect();
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
}

#[test]
fn the_top_level_keeps_its_roles() {
    let graphs = graphs();
    let top = &graphs[""];
    // Only the command line names the wiring, nothing names the command line, and the leaves
    // (`job`, `config`) name nothing of the program.
    for (module, to) in top {
        assert!(!to.contains("cli"), "{module} imports cli");
        assert!(module == "cli" || !to.contains("app"), "{module} imports app");
    }
    for leaf in ["job", "config"] {
        assert!(top[leaf].is_empty(), "{leaf} imports {:?}", top[leaf]);
    }
    // `net` knows addresses and the settings that name them, nothing else.
    assert!(top["net"].iter().all(|m| m == "config"), "net imports {:?}", top["net"]);
}

/// `src/scrape`'s layers, lowest first: each names only those before it.
const SCRAPE_LAYERS: [&str; 9] = ["model", "read", "facts", "page", "acquire", "assemble", "sources", "stages", "run"];

#[test]
fn scrape_layers_name_only_the_layers_below() {
    let graphs = graphs();
    let scrape = &graphs["scrape"];
    let children: BTreeSet<&str> = scrape.keys().map(String::as_str).collect();
    let layers: BTreeSet<&str> = SCRAPE_LAYERS.into_iter().collect();
    assert_eq!(children, layers, "src/scrape holds exactly its layers");
    let rank = |m: &str| SCRAPE_LAYERS.iter().position(|l| *l == m).unwrap();
    for (layer, to) in scrape {
        for below in to {
            assert!(rank(below) < rank(layer), "src/scrape: {layer} names {below}, a layer above it");
        }
    }
}

#[test]
fn the_reader_finds_what_files_name() {
    let module: Vec<String> = ["scrape", "read", "meta"].map(String::from).to_vec();
    let text = "use super::lines::Line;\nuse crate::scrape::{model::text, facts::{legal, address}};\n\
                use super::super::page::x;\n#[cfg(test)]\nmod tests {\n    use super::Thing;\n}\n";
    let found = named_paths(&module, text);
    let want: Vec<Vec<String>> = [
        vec!["scrape", "model", "text"],
        vec!["scrape", "facts"],
        vec!["scrape", "read", "lines", "Line"],
        vec!["scrape", "page", "x"],
        vec!["scrape", "read", "meta", "Thing"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    for path in &want {
        assert!(found.contains(path), "{path:?} not in {found:?}");
    }
}
