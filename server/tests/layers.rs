//! The server's shape, checked on every test run by reading `server/src`:
//!
//! - dependencies point one way: `routes`, `console` → `identity`, `mail`,
//!   `auth` → `db` → `secrets`, `clock` (the ranks below);
//! - no import cycle between files;
//! - only `db/` touches SeaORM entities or writes SQL;
//! - no production file is longer than 400 lines.
//!
//! A file's dependencies are the `crate::…`, `super::…` and `self::…` paths
//! in its code (comments and test modules left out), resolved to the file
//! of the deepest module they name (through `pub use` re-exports), and the
//! uses of its own child modules outside `mod`/`use` lines.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lower ranks are lower layers; a module may use only lower ranks.
const RANKS: &[(&str, u8)] = &[
    ("capped", 0),
    ("clock", 0),
    ("hashing", 0),
    ("memory", 0),
    ("telemetry", 0),
    ("reference", 0),
    ("failpoints", 0),
    ("secrets", 0),
    ("config", 0),
    ("db", 1),
    ("identity", 2),
    ("web_security", 2),
    ("auth", 3),
    ("mail", 3),
    ("alerts", 3),
    ("console", 4),
    ("routes", 4),
    ("startup", 5),
    ("cli", 5),
    ("fuzzing", 5),
];

const MAX_LINES: usize = 400;

struct Source {
    /// Relative to `src/`.
    path: PathBuf,
    /// `db/tenant_emails/save.rs` → `["db", "tenant_emails", "save"]`.
    module: Vec<String>,
    /// The code without comments and without its test module.
    code: String,
    lines: usize,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Drops `//` comments (not inside a string literal) and everything from
/// the first `#[cfg(test)]` on, where test modules live.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut prev = ' ';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            }
            if !in_string && c == '/' && prev == '/' {
                cut = i - 1;
                break;
            }
            prev = c;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

fn sources() -> Vec<Source> {
    let root = src();
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().to_path_buf();
            let name = rel.file_name().unwrap().to_string_lossy().to_string();
            // The binary, test-only files and this checker are not the layers.
            if !name.ends_with(".rs")
                || ["main.rs", "tests.rs", "layers.rs", "testing.rs"].contains(&name.as_str())
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(Source {
                module: module_of(&rel),
                code: code_of(&text),
                lines: text.lines().count(),
                path: rel,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths starting at `text` (`a::b::{c, d::e}` → `a::b::c`, `a::b::d::e`).
fn expand(text: &str) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 1;
                let mut end = 0;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                let inner = &group[..end];
                let mut parts = Vec::new();
                let (mut depth, mut start) = (0, 0);
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            parts.push(&inner[start..i]);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                parts.push(&inner[start..]);
                return parts
                    .into_iter()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .flat_map(|p| {
                        expand(p).into_iter().map(|tail| {
                            let mut full = segments.clone();
                            full.extend(tail.into_iter().filter(|s| s != "self"));
                            full
                        })
                    })
                    .collect();
            }
            return vec![segments];
        }
        rest = &rest[ident.len()..];
        segments.push(ident);
        match rest.strip_prefix("::") {
            Some(r) => rest = r.trim_start(),
            None => return vec![segments],
        }
    }
}

/// Every `crate::`/`super::`/`self::` path in `code`, as module-relative segments
/// with its anchor first.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for anchor in ["crate::", "super::", "self::"] {
        for (i, _) in code.match_indices(anchor) {
            if code[..i]
                .chars()
                .last()
                .is_some_and(|c| is_ident(c) || c == ':')
            {
                continue;
            }
            for mut tail in expand(&code[i + anchor.len()..]) {
                tail.insert(0, anchor.trim_end_matches("::").to_string());
                out.push(tail);
            }
        }
    }
    out
}

struct Tree {
    modules: BTreeMap<Vec<String>, usize>,
    /// (module, name) → the module a `pub use` re-exports it from.
    reexports: BTreeMap<(Vec<String>, String), Vec<String>>,
}

impl Tree {
    fn new(sources: &[Source]) -> Self {
        let modules: BTreeMap<_, _> = sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.module.clone(), i))
            .collect();
        let mut tree = Tree {
            modules,
            reexports: BTreeMap::new(),
        };
        for s in sources {
            for line in s.code.lines().map(str::trim) {
                let Some(rest) = line.strip_prefix("pub use ") else {
                    continue;
                };
                for path in expand(rest.trim_end_matches(';')) {
                    let Some(name) = path.last().cloned() else {
                        continue;
                    };
                    let mut from = s.module.clone();
                    from.extend(path[..path.len() - 1].iter().cloned());
                    if tree.modules.contains_key(&from) {
                        tree.reexports.insert((s.module.clone(), name), from);
                    }
                }
            }
        }
        tree
    }

    /// The file a path from `module` leads to, if it is one of ours.
    fn resolve(&self, module: &[String], path: &[String]) -> Option<usize> {
        let (mut at, rest): (Vec<String>, &[String]) = match path.first()?.as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" => (module.to_vec(), &path[1..]),
            _ => {
                let mut at = module.to_vec();
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    at.pop()?;
                    rest = &rest[1..];
                }
                (at, rest)
            }
        };
        for segment in rest {
            let mut deeper = at.clone();
            deeper.push(segment.clone());
            if self.modules.contains_key(&deeper) {
                at = deeper;
            } else if let Some(from) = self.reexports.get(&(at.clone(), segment.clone())) {
                at = from.clone();
                break;
            } else {
                break;
            }
        }
        self.modules.get(&at).copied()
    }
}

/// Edges between files (by index).
fn graph(sources: &[Source]) -> Vec<BTreeSet<usize>> {
    let tree = Tree::new(sources);
    sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut deps: BTreeSet<usize> = paths(&s.code)
                .iter()
                .filter_map(|p| tree.resolve(&s.module, p))
                .collect();
            // Children used by name in code (not in `mod`/`use` lines).
            for line in s.code.lines().map(str::trim) {
                if line.starts_with("mod ") || line.starts_with("pub mod ") || line.contains("use ")
                {
                    continue;
                }
                for (child, j) in &tree.modules {
                    if child.len() != s.module.len() + 1 || !child.starts_with(&s.module) {
                        continue;
                    }
                    let name = format!("{}::", child[child.len() - 1]);
                    let used = line.match_indices(&name).any(|(k, _)| {
                        !line[..k]
                            .chars()
                            .last()
                            .is_some_and(|c| is_ident(c) || c == ':')
                    });
                    if used {
                        deps.insert(*j);
                    }
                }
            }
            deps.remove(&i);
            deps
        })
        .collect()
}

fn rank(module: &[String]) -> Option<u8> {
    let top = module.first()?;
    RANKS.iter().find(|(m, _)| m == top).map(|(_, r)| *r)
}

#[test]
fn dependencies_point_down_the_layers() {
    let sources = sources();
    let edges = graph(&sources);
    let mut wrong = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        if s.module.is_empty() {
            continue; // lib.rs declares every module.
        }
        let Some(from) = rank(&s.module) else {
            panic!(
                "{}: add its top-level module to layers::RANKS",
                s.path.display()
            );
        };
        for &j in &edges[i] {
            let target = &sources[j];
            if target.module.first() == s.module.first() || target.module.is_empty() {
                continue;
            }
            let to = rank(&target.module).unwrap_or(u8::MAX);
            if to >= from {
                wrong.push(format!("{} → {}", s.path.display(), target.path.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies pointing up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_cycles_between_files() {
    let sources = sources();
    let edges = graph(&sources);
    // Tarjan's strongly connected components.
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        cycles: Vec<Vec<usize>>,
    }
    fn visit(v: usize, edges: &[BTreeSet<usize>], st: &mut State) {
        st.index[v] = Some(st.next);
        st.low[v] = st.next;
        st.next += 1;
        st.stack.push(v);
        st.on_stack[v] = true;
        for &w in &edges[v] {
            match st.index[w] {
                None => {
                    visit(w, edges, st);
                    st.low[v] = st.low[v].min(st.low[w]);
                }
                Some(iw) if st.on_stack[w] => st.low[v] = st.low[v].min(iw),
                _ => {}
            }
        }
        if Some(st.low[v]) == st.index[v] {
            let mut component = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                st.cycles.push(component);
            }
        }
    }
    let n = sources.len();
    let mut st = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        cycles: Vec::new(),
    };
    for v in 0..n {
        if st.index[v].is_none() {
            visit(v, &edges, &mut st);
        }
    }
    let shown: Vec<String> = st
        .cycles
        .iter()
        .map(|c| {
            c.iter()
                .map(|&i| sources[i].path.display().to_string())
                .collect::<Vec<_>>()
                .join(" ⇄ ")
        })
        .collect();
    assert!(shown.is_empty(), "import cycles:\n{}", shown.join("\n"));
}

#[test]
fn only_the_storage_layer_touches_entities_and_sql() {
    const SQL: &[&str] = &[
        "entities",
        "\"SELECT ",
        "\"INSERT ",
        "\"UPDATE ",
        "\"DELETE ",
        "Statement::",
        "execute_unprepared",
        "sea_orm::",
    ];
    let mut found = Vec::new();
    for s in sources() {
        if s.module.first().is_some_and(|m| m == "db") || s.module.is_empty() {
            continue;
        }
        for (n, line) in s.code.lines().enumerate() {
            // The raw connection handed to integration tests, by its type only.
            if s.path == Path::new("startup.rs")
                && line.trim() == "use sea_orm::DatabaseConnection;"
            {
                continue;
            }
            if let Some(what) = SQL.iter().find(|w| line.contains(*w)) {
                found.push(format!("{}:{}: {what}", s.path.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "storage outside db/:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_production_file_is_longer_than_the_limit() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|s| s.lines > MAX_LINES)
        .map(|s| format!("{} ({} lines)", s.path.display(), s.lines))
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checker_reads_paths_and_cycles_as_meant() {
    assert_eq!(
        expand("a::{b, c::{d, self}}, e"),
        vec![
            vec!["a".to_string(), "b".into()],
            vec!["a".to_string(), "c".into(), "d".into()],
            vec!["a".to_string(), "c".into()],
        ]
    );
    assert_eq!(code_of("let a = \"//x\"; // note\n"), "let a = \"//x\"; \n");
    let found = paths("use super::{x::Y, z};\nlet q = crate::db::Store::new();");
    assert!(found.contains(&vec!["super".into(), "x".into(), "Y".into()]));
    assert!(found.contains(&vec![
        "crate".into(),
        "db".into(),
        "Store".into(),
        "new".into()
    ]));
    // The real tree has files in every layer, and the checker sees edges.
    let sources = sources();
    assert!(sources.len() > 50);
    let edges = graph(&sources);
    let at = |m: &[&str]| sources.iter().position(|s| s.module == m).unwrap();
    let save = at(&["db", "tenant_emails", "save"]);
    assert!(
        edges[save].contains(&at(&["db", "connections"])),
        "save.rs uses crate::db::connections"
    );
    assert!(
        edges[save].contains(&at(&["db", "error"])),
        "crate::db::StoreError is re-exported from db/error.rs"
    );
}
