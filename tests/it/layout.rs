//! The house's shape: arrows between `src/`'s top-level modules point one way (no module reaches
//! back up through another), read from the `crate::…` paths of every file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its files name through `crate::…`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
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
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
            let module = first.trim_end_matches(".rs").to_string();
            if matches!(module.as_str(), "lib" | "main") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                let braced = rest.starts_with('{');
                let names: Vec<String> = if braced {
                    let inside = rest[1..].split('}').next().unwrap_or_default();
                    inside.split(',').filter_map(|p| p.trim().split("::").next().map(str::to_string)).collect()
                } else {
                    vec![name]
                };
                for name in names {
                    let is_module = src.join(format!("{name}.rs")).is_file() || src.join(&name).is_dir();
                    if is_module && name != module {
                        graph.entry(module.clone()).or_default().insert(name);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_reaches_back_up() {
    let graph = imports();
    assert!(graph.len() > 10, "{graph:?}");
    // A cycle exists iff a depth-first walk meets a module still on its path.
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
    for module in graph.keys() {
        if let Some(cycle) = walk(&graph, module, &mut Vec::new(), &mut done) {
            panic!("an import cycle: {}", cycle.join(" → "));
        }
    }
    // Only the command line names the wiring, nothing names the command line, and the leaves
    // (`job`, `config`) name nothing of the program.
    for (module, to) in &graph {
        assert!(!to.contains("cli"), "{module} imports cli");
        assert!(module == "cli" || !to.contains("app"), "{module} imports app");
    }
    for leaf in ["job", "config"] {
        assert!(graph.get(leaf).is_none_or(|to| to.is_empty()), "{leaf} imports {:?}", graph[leaf]);
    }
    // `net` knows addresses and the settings that name them, nothing else.
    assert!(graph.get("net").is_none_or(|to| to.iter().all(|m| m == "config")), "net imports {:?}", graph["net"]);
}
