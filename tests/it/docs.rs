//! Docs that run: every fenced code block in README.md and docs/*.md is a
//! tested example, so a document cannot drift from the code.
//!
//! The convention, per block (an HTML comment is invisible when rendered):
//!
//! - **A command example**: the block's first line starts with `$ arrears`,
//!   or with `$ ` and a later line with `$ arrears` (a `mkdir -p` first).
//!   Each `$ ` line runs with `sh` in a copy of the repository's `rules/` and
//!   `samples/`, which is also `HOME` (`~` never reaches the real one), with
//!   `arrears` the binary just built, and the lines under it
//!   are compared with what it prints (standard output, then standard error).
//!   Without `...` the output must be exactly the lines shown; `...` alone on a
//!   line (indented or not) stands for any number of lines, and `...` inside a line for any text
//!   there (`letter="X" ...  <- rules` matches `letter="X" notice="Y"  <- rules`).
//! - **A test document** (a YAML block whose top-level key is `tests`): saved as
//!   `rules/tests/example.yaml` in that copy and run with `arrears test`; every
//!   case must pass.
//! - **Rule files** (YAML or TOML), after `<!-- fixture: NAME -->`: every block
//!   of one markdown file marked with the same NAME is one file of a fresh rules
//!   directory, and the directory must lint without errors. After
//!   `<!-- fixture: NAME over rules -->` the blocks go into a copy of the
//!   shipped `rules/` instead, each replacing the file that declares the same
//!   document (the same first line, `policy: collections`), or added; as the
//!   shipped rules do, they must lint without warnings too.
//! - **An excerpt** of a shipped file, after `<!-- excerpt: PATH -->`: every
//!   line of the block (comments and indentation aside; a line with `...`
//!   excepted) must be a line of PATH, so the excerpt cannot drift from the file.
//! - **Not runnable** (a synopsis, an excerpt, a diagram, a batch over a
//!   1M-row extract): `<!-- not run: REASON -->` before the block, with the reason.
//!
//! A block indented inside a list item is a block too (its indentation is not
//! part of its text). Any other block fails the test. `docs/lint-codes.md` is left out: it is
//! generated from `src/lang/analysis/codes.rs` (`lint_codes_doc` keeps them equal)
//! and its examples are fragments showing one mistake each.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;

/// One fenced block: where it is, its info string, the marker comment before it.
#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    info: String,
    marker: Option<String>,
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// The markdown files whose examples are tested.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !p.ends_with("lint-codes.md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The fenced blocks of a markdown file, with the `<!-- ... -->` comment on the
/// line before each (blank lines between are allowed).
fn blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path
        .strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // A block inside a list item is indented: it is a block like any other.
        let indent = &lines[i][..lines[i].len() - lines[i].trim_start().len()];
        let Some(info) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let marker = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix("<!--"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|m| m.trim().to_string());
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].trim_start().starts_with("```"))
            .unwrap_or_else(|| panic!("{file}:{}: the block is not closed", i + 1));
        // CommonMark: a closing fence has nothing after it, or it closes
        // nothing and the rest of the page renders as code.
        assert!(
            lines[end].trim().trim_start_matches('`').is_empty(),
            "{file}:{}: text after a closing ``` (`{}`): a closing fence must stand alone, so this line does not close the block; put the text on its own line",
            end + 1,
            lines[end].trim()
        );
        out.push(Block {
            file: file.clone(),
            line: i + 1,
            info: info.trim().to_string(),
            marker,
            text: lines[i + 1..end]
                .iter()
                .map(|l| format!("{}\n", l.strip_prefix(indent).unwrap_or(l)))
                .collect(),
        });
        i = end + 1;
    }
    out
}

/// A scratch copy of what examples read: `rules/` and `samples/`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["rules", "samples"] {
        common::copy_dir(&root().join(sub), &dir.path().join(sub));
    }
    dir
}

/// Runs one `$ ` line with `sh` in `cwd`, `arrears` being the built binary.
fn run_shell(cwd: &Path, command: &str) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_arrears")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new("sh")
        .args(["-c", command])
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("run sh");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `actual` matches a shown line, `...` inside it standing for any text.
fn line_matches(shown: &str, actual: &str) -> bool {
    let parts: Vec<&str> = shown.split("...").collect();
    if parts.len() == 1 {
        return shown == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    if !actual.ends_with(last) {
        return false;
    }
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Whether the actual lines match the shown ones, a line `...` standing for any lines.
fn output_matches(shown: &[&str], actual: &[&str]) -> bool {
    match shown.split_first() {
        None => actual.is_empty(),
        Some((line, rest)) if line.trim() == "..." => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((line, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(line, a) && output_matches(rest, more)),
    }
}

fn check_commands(block: &Block) {
    let dir = workspace();
    let mut lines = block.text.lines().peekable();
    while let Some(line) = lines.next() {
        let command = line
            .strip_prefix("$ ")
            .unwrap_or_else(|| panic!("{}: expected a `$ ` line, not {line:?}", block.at()));
        let mut shown = Vec::new();
        while let Some(l) = lines.next_if(|l| !l.starts_with("$ ")) {
            shown.push(l);
        }
        let printed = run_shell(dir.path(), command);
        let actual: Vec<&str> = printed.lines().collect();
        assert!(
            output_matches(&shown, &actual),
            "{}: `{command}` prints something else.\nshown:\n{}\nprinted:\n{printed}",
            block.at(),
            shown.join("\n")
        );
    }
}

fn check_test_document(block: &Block) {
    let dir = workspace();
    let path = dir.path().join("rules/tests/example.yaml");
    std::fs::write(&path, &block.text).unwrap();
    let printed = run_shell(
        dir.path(),
        "arrears test rules/tests/example.yaml; echo exit=$?",
    );
    assert!(
        printed.ends_with("exit=0\n"),
        "{}: the test document does not pass:\n{}\n{printed}",
        block.at(),
        block.text
    );
}

/// The line that says which document a rule file is (`policy: collections`).
fn identity(text: &str) -> Option<String> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim_end())
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

fn rule_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("tests") {
                out.extend(rule_files(&path));
            }
        } else {
            out.push(path);
        }
    }
    out
}

/// A line without its comment and indentation.
fn bare(line: &str) -> &str {
    line.split(" #").next().unwrap_or("").trim()
}

fn check_excerpt(block: &Block, path: &str) {
    let file = std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("{}: excerpt of `{path}`: {e}", block.at()));
    let lines: Vec<&str> = file.lines().map(bare).collect();
    for line in block.text.lines().map(bare) {
        assert!(
            line.is_empty() || line.contains("...") || lines.contains(&line),
            "{}: `{line}` is not a line of {path}",
            block.at()
        );
    }
}

fn check_fixture(name: &str, over_rules: bool, blocks: &[&Block]) {
    let dir = if over_rules {
        workspace()
    } else {
        tempfile::tempdir().unwrap()
    };
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for (n, block) in blocks.iter().enumerate() {
        let ext = match block.info.as_str() {
            "yaml" | "toml" => block.info.as_str(),
            other => panic!(
                "{}: fixture `{name}`: a `{other}` block is not a rule file",
                block.at()
            ),
        };
        let replaced = over_rules
            .then(|| {
                let id = identity(&block.text)?;
                rule_files(&rules)
                    .into_iter()
                    .find(|f| identity(&std::fs::read_to_string(f).unwrap()).as_ref() == Some(&id))
            })
            .flatten();
        let path = replaced.unwrap_or_else(|| rules.join(format!("doc-example-{n}.{ext}")));
        std::fs::write(path, &block.text).unwrap();
    }
    // Over the shipped rules, which lint clean, an example must not add a warning either.
    let lint = if over_rules {
        "arrears lint rules --deny-warnings; echo exit=$?"
    } else {
        "arrears lint rules; echo exit=$?"
    };
    let printed = run_shell(dir.path(), lint);
    assert!(
        printed.ends_with("exit=0\n"),
        "fixture `{name}` ({}) does not lint:\n{printed}",
        blocks.iter().map(|b| b.at()).collect::<Vec<_>>().join(", ")
    );
}

#[test]
fn every_documented_example_runs_as_written() {
    let mut fixtures: BTreeMap<(String, String, bool), Vec<Block>> = BTreeMap::new();
    let (mut commands, mut tests, mut excerpts, mut not_run) = (0, 0, 0, 0);
    for path in documents() {
        for block in blocks(&path) {
            let marker = block.marker.clone().unwrap_or_default();
            if let Some(reason) = marker.strip_prefix("not run:") {
                assert!(
                    !reason.trim().is_empty(),
                    "{}: say why it is not run",
                    block.at()
                );
                not_run += 1;
            } else if let Some(path) = marker.strip_prefix("excerpt:") {
                check_excerpt(&block, path.trim());
                excerpts += 1;
            } else if let Some(fixture) = marker.strip_prefix("fixture:") {
                let (name, over_rules) = match fixture.trim().strip_suffix(" over rules") {
                    Some(name) => (name, true),
                    None => (fixture.trim(), false),
                };
                fixtures
                    .entry((block.file.clone(), name.to_string(), over_rules))
                    .or_default()
                    .push(block);
            } else if block.text.starts_with("$ arrears")
                || (block.text.starts_with("$ ")
                    && block.text.lines().any(|l| l.starts_with("$ arrears")))
            {
                check_commands(&block);
                commands += 1;
            } else if block.info == "yaml" && block.text.starts_with("tests:") {
                check_test_document(&block);
                tests += 1;
            } else {
                panic!(
                    "{}: a block that is not a tested example: start it with `$ arrears`, or put \
                     `<!-- fixture: NAME -->`, `<!-- excerpt: PATH -->` or `<!-- not run: REASON -->` before it (tests/docs.rs)",
                    block.at()
                );
            }
        }
    }
    for ((_, name, over_rules), blocks) in &fixtures {
        check_fixture(name, *over_rules, &blocks.iter().collect::<Vec<_>>());
    }
    // The documents hold examples of each kind; a broken block scanner finds none.
    assert!(commands >= 1 && tests >= 2 && fixtures.len() >= 3 && excerpts >= 1 && not_run >= 1);
}

/// A block indented under a list item is found and its indentation dropped,
/// so its example runs like any other (it once escaped the test).
#[test]
fn an_indented_block_is_a_block() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        "- a step:\n\n  ```\n  $ arrears --version\n    indented more\n  ```\n- next\n",
    )
    .unwrap();
    let found = blocks(&doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, 3);
    assert_eq!(found[0].text, "$ arrears --version\n  indented more\n");
}

/// Text after a closing fence leaves the block open on GitHub (it once did,
/// in docs/rule-files.md): refused at its line.
#[test]
fn text_after_a_closing_fence_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(&doc, "```\n$ arrears --version\n``` And then text.\n").unwrap();
    let refused = std::panic::catch_unwind(|| blocks(&doc)).unwrap_err();
    let message = refused.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("doc.md:3: text after a closing ```"),
        "{message}"
    );
}

#[test]
fn shown_output_matches_with_ellipses() {
    let actual = [
        "account a",
        "    open_case x=1 y=2  <- entry:r",
        "account b",
        "    (no actions)",
    ];
    let cases: &[(&[&str], bool)] = &[
        (&actual, true),
        (&["account a", "..."], true),
        (&["account a", "    ..."], true),
        (&["...", "account b", "    (no actions)"], true),
        (
            &["account a", "    open_case x=1 ...  <- entry:r", "..."],
            true,
        ),
        (
            &["account a", "    open_case x=2 ...  <- entry:r", "..."],
            false,
        ),
        (&["account a"], false),
        (&["account b", "..."], false),
        (&["account a", "...", "account c"], false),
    ];
    for (shown, matches) in cases {
        assert_eq!(output_matches(shown, &actual), *matches, "{shown:?}");
    }
}
