//! The source tree's imports follow the layer order written in ARCHITECTURE.md
//! (the fenced `text layers` block, top layer first): every `crate::…` and
//! `super::…` path in `src/**/*.rs` names a module on its own layer or below,
//! and no two files import each other through any chain. The order is read from
//! the document, so the documentation and this check cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path below the crate root (`["policy", "run"]`); the root is `[]`.
type Module = Vec<String>;

/// `src/a/b.rs` → `a::b`, `src/a/mod.rs` → `a`, `src/lib.rs` → the root;
/// `None` for the binary's `main.rs`, which is a crate of its own.
fn module_of(relative: &Path) -> Option<Module> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match parts.last().map(String::as_str) {
        Some("main") if parts.len() == 1 => return None,
        Some("mod") | Some("lib") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts)
}

/// Every path a file names from `crate::` or `super::`, brace groups expanded,
/// as absolute segments (the module's own path substituted for `super`).
/// Comments are ignored; `$crate` (macros) is not a path of this crate.
fn paths_in(module: &Module, text: &str) -> Vec<Vec<String>> {
    let code = code_only(text);
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    // Inline modules (`mod tests {`) open inside the file: their names and the
    // brace depth they close at, so that `super::` inside one means the file.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &code[i..];
        let boundary =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || b"_$".contains(&bytes[i - 1]));
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            _ => {}
        }
        if boundary && rest.starts_with("mod ") {
            let name: String = rest[4..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if rest[4 + name.len()..].trim_start().starts_with('{') {
                inline.push((name, depth));
            }
        }
        let start = if !boundary {
            None
        } else if rest.starts_with("crate::") {
            Some((Vec::new(), "crate::".len()))
        } else if rest.starts_with("super::") {
            let mut base = module.clone();
            base.extend(inline.iter().map(|(name, _)| name.clone()));
            let mut len = 0;
            while code[i + len..].starts_with("super::") {
                base.pop();
                len += "super::".len();
            }
            Some((base, len))
        } else {
            None
        };
        match start {
            Some((base, len)) => {
                let mut at = i + len;
                tree(&code, &mut at, base, &mut out);
                i = at.max(i + 1);
            }
            None => i += 1,
        }
    }
    out
}

/// `text` with comments left out and the insides of string and character
/// literals blanked, so that only code is searched and braces balance.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        let after_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && at(i + 1) == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && !after_ident && matches!(at(i + 1), '"' | '#') {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if at(i + 1 + hashes) != '"' {
                out.push(c);
                i += 1;
                continue;
            }
            i += 2 + hashes;
            while i < chars.len() && !(chars[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#')) {
                i += 1;
            }
            i += 1 + hashes;
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && at(i + 1) == '\\' {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c == '\'' && at(i + 2) == '\'' {
            i += 3;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Reads one use tree at `at` (`a::b`, `a::{b, c::d}`, `a as x`, `*`, `self`),
/// pushing every full path it names below `prefix`.
fn tree(code: &str, at: &mut usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        skip_space(code, at);
        if code[*at..].starts_with('{') {
            *at += 1;
            loop {
                skip_space(code, at);
                if code[*at..].starts_with('}') || *at >= code.len() {
                    *at += 1;
                    return;
                }
                tree(code, at, prefix.clone(), out);
                skip_space(code, at);
                if code[*at..].starts_with(',') {
                    *at += 1;
                }
            }
        }
        let ident: String = code[*at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            // `*` or anything else ends the path where it is.
            out.push(prefix);
            return;
        }
        *at += ident.len();
        if ident != "self" {
            prefix.push(ident);
        }
        if code[*at..].starts_with("::") {
            *at += 2;
        } else {
            out.push(prefix);
            return;
        }
    }
}

fn skip_space(code: &str, at: &mut usize) {
    while code[*at..].starts_with(char::is_whitespace) {
        *at += code[*at..].chars().next().map_or(1, char::len_utf8);
    }
}

/// The layers of ARCHITECTURE.md's `text layers` block, top first: each line
/// lists module paths (`batch::mapping`), comma separated.
fn layers_of(architecture: &str) -> Vec<Vec<Module>> {
    let block = architecture
        .split("```text layers\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("ARCHITECTURE.md has a ```text layers block");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|m| match m.trim() {
                    "crate" => Vec::new(),
                    m => m.split("::").map(str::to_string).collect(),
                })
                .collect()
        })
        .collect()
}

/// Every import cycle and every import against the layer order, as messages.
fn violations(files: &BTreeMap<Module, String>, layers: &[Vec<Module>]) -> Vec<String> {
    let mut problems = Vec::new();
    // The layer of a module: its longest prefix listed (`crate` is lib.rs).
    let layer_of = |m: &Module| -> Option<usize> {
        // The root's own entry, `crate`, places lib.rs only.
        (0..=m.len())
            .rev()
            .filter(|&k| k > 0 || m.is_empty())
            .find_map(|k| {
                layers
                    .iter()
                    .position(|layer| layer.iter().any(|entry| entry[..] == m[..k]))
            })
    };
    for layer in layers {
        for entry in layer {
            if !files.contains_key(entry) {
                problems.push(format!(
                    "ARCHITECTURE.md names `{}`, which is no module",
                    entry.join("::")
                ));
            }
        }
    }
    let resolve = |path: &[String]| -> Option<Module> {
        (0..=path.len())
            .rev()
            .map(|k| path[..k].to_vec())
            .find(|m| files.contains_key(m))
    };
    let mut edges: BTreeMap<&Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in files {
        let Some(from) = layer_of(module) else {
            problems.push(format!(
                "`{}` is on no layer of ARCHITECTURE.md",
                module.join("::")
            ));
            continue;
        };
        for path in paths_in(module, text) {
            let Some(target) = resolve(&path) else {
                continue;
            };
            if &target == module {
                continue;
            }
            if let Some(to) = layer_of(&target) {
                if to < from {
                    problems.push(format!(
                        "`{}` uses `crate::{}`, a layer above it",
                        module.join("::"),
                        path.join("::")
                    ));
                }
            }
            // A parent and its children form one room: mod.rs re-exports them
            // and they use its items. Cycles are looked for between rooms' files.
            let related = target.starts_with(module) || module.starts_with(&target);
            if !related {
                edges.entry(module).or_default().insert(target);
            }
        }
    }
    for cycle in cycles(&edges) {
        problems.push(format!("import cycle: {}", cycle.join(" <-> ")));
    }
    problems
}

/// The files of every strongly connected component of more than one file.
fn cycles(edges: &BTreeMap<&Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    let reach = |from: &Module| -> BTreeSet<Module> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for &module in edges.keys() {
        let from_here = reach(module);
        let component: Vec<String> = from_here
            .iter()
            .filter(|other| *other != module && reach(other).contains(module))
            .chain(std::iter::once(module))
            .map(|m| m.join("::"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if component.len() > 1 {
            found.insert(component);
        }
    }
    found.into_iter().collect()
}

fn source_files(dir: &Path, root: &Path, files: &mut BTreeMap<Module, String>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            source_files(&path, root, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("below src");
            if let Some(module) = module_of(relative) {
                files.insert(module, std::fs::read_to_string(&path).expect("read source"));
            }
        }
    }
}

#[test]
fn imports_follow_the_documented_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let architecture =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("read ARCHITECTURE.md");
    let layers = layers_of(&architecture);
    let mut files = BTreeMap::new();
    source_files(&root.join("src"), &root.join("src"), &mut files);
    let problems = violations(&files, &layers);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check itself: a back edge, a cycle inside one layer, a module on no
/// layer and a stale layer entry are each reported.
#[test]
fn back_edges_and_cycles_are_reported() {
    let layers = layers_of("```text layers\ncrate\npolicy\ncompile, eval\ntypes, gone\n```\n");
    let file = |m: &str, text: &str| {
        let module = if m.is_empty() {
            Vec::new()
        } else {
            m.split("::").map(str::to_string).collect()
        };
        (module, text.to_string())
    };
    let files: BTreeMap<Module, String> = [
        file("", "pub mod policy;"),
        file("policy", "use crate::compile::Plan;\nmod run;"),
        file(
            "policy::run",
            "use super::Policy; use crate::{eval::Tables, types};",
        ),
        file("compile", "use crate::eval::{compare, Values as V};"),
        file(
            "eval",
            "// crate::policy::x in a comment\nuse crate::compile::{self, Plan};\n\
             const S: &str = \"crate::policy::y {\"; const C: char = '}';",
        ),
        file("types", "fn f(_: &crate::policy::run::Action) {}"),
        file("stray", "use crate::types::Value;"),
        file(
            "types::money",
            "mod tests {\n    use super::*;\n}\nuse super::Type;",
        ),
    ]
    .into_iter()
    .collect();
    let problems = violations(&files, &layers);
    assert_eq!(
        problems,
        [
            "ARCHITECTURE.md names `gone`, which is no module",
            "`stray` is on no layer of ARCHITECTURE.md",
            "`types` uses `crate::policy::run::Action`, a layer above it",
            "import cycle: compile <-> eval",
            "import cycle: policy::run <-> types",
        ]
    );
}
