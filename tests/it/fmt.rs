//! `arrears fmt`: meaning kept over every rule file in the repository, comments
//! and quoting kept on a fixture written carelessly, `--check` and `--diff`
//! exit codes and output, files that do not parse left alone; completions
//! and man pages generated from the clap command.

use std::path::{Path, PathBuf};

use crate::common::{arrears_in, copy_dir, root, stderr, stdout};

/// The checked program of a rules directory, with spans and cell texts taken
/// out (they move when a cell is rewritten; the meaning must not).
fn program(dir: &Path) -> String {
    let checked = arrears::load_rules(dir).expect("rules load");
    let debug = format!("{:#?}", checked.program);
    let mut out = String::new();
    let mut skipping: Option<usize> = None;
    for line in debug.lines() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        // The file's line index moves with its text; its name and rows do not.
        if let Some(at) = skipping {
            if indent == at && t.starts_with('}') {
                skipping = None;
            }
            continue;
        }
        if t.starts_with("file: SourceFile {") {
            skipping = Some(indent);
            continue;
        }
        if t.starts_with("span:")
            || t.starts_with("text:")
            || t.starts_with("start:")
            || t.starts_with("end:")
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every directory in the repository that holds a table.
fn rule_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        let holds_table = entries.iter().any(|p| {
            p.extension().is_some_and(|e| e == "yaml" || e == "toml")
                && std::fs::read_to_string(p)
                    .is_ok_and(|t| t.lines().any(|l| l.starts_with("table")))
        });
        if holds_table {
            found.push(dir.to_path_buf());
        }
        for p in entries.iter().filter(|p| p.is_dir()) {
            walk(p, found);
        }
    }
    let mut found = Vec::new();
    for top in ["rules", "samples", "tests/fixtures"] {
        walk(&root().join(top), &mut found);
    }
    found
}

#[test]
fn formatting_every_rule_directory_keeps_its_program_and_a_second_run_changes_nothing() {
    let mut checked = 0;
    for dir in rule_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("rules");
        copy_dir(&dir, &copy);
        let clean = arrears::load_rules(&copy).is_ok_and(|c| !c.has_errors());
        let before = clean.then(|| program(&copy));
        let first = arrears_in(tmp.path(), &["fmt", "rules"]);
        let code = first.status.code();
        assert!(
            matches!(code, Some(0 | 2 | 3)),
            "{}: {:?} {}",
            dir.display(),
            code,
            stderr(&first)
        );
        let second = arrears_in(tmp.path(), &["fmt", "--check", "rules"]);
        assert!(
            stdout(&second).starts_with("0 files would be reformatted") || code != Some(0),
            "{}: not idempotent:\n{}",
            dir.display(),
            stdout(&second)
        );
        if let Some(before) = before {
            assert_eq!(
                program(&copy),
                before,
                "{}: the program changed",
                dir.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} rule directories checked cleanly"
    );
}

fn messy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("messy");
    copy_dir(&root().join("tests/fixtures/fmt/messy"), &dir);
    (tmp, dir)
}

#[test]
fn a_careless_file_is_rewritten_with_its_comments_quotes_and_order_kept() {
    let (tmp, dir) = messy();
    let before = program(&dir);
    let out = arrears_in(tmp.path(), &["fmt", "messy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_snapshot!("fmt_messy_stdout", stdout(&out));
    let entry = std::fs::read_to_string(dir.join("entry.yaml")).unwrap();
    let exit = std::fs::read_to_string(dir.join("exit.toml")).unwrap();
    // Every comment of the original is still there, in its place.
    let original =
        std::fs::read_to_string(root().join("tests/fixtures/fmt/messy/entry.yaml")).unwrap();
    for comment in original
        .lines()
        .filter_map(|l| l.find('#').map(|i| &l[i..]))
    {
        assert!(entry.contains(comment), "lost {comment}");
    }
    assert_snapshot!("fmt_messy_entry_yaml", entry);
    assert_snapshot!("fmt_messy_exit_toml", exit);
    assert_eq!(program(&dir), before);
    let again = arrears_in(tmp.path(), &["fmt", "messy"]);
    assert_eq!(stdout(&again), "0 files reformatted, 3 already formatted\n");
}

#[test]
fn check_lists_unformatted_files_and_exits_1_then_0() {
    let (tmp, _dir) = messy();
    let out = arrears_in(tmp.path(), &["fmt", "--check", "messy"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "would reformat messy/entry.yaml\nwould reformat messy/exit.toml\n2 files would be reformatted, 1 already formatted\n"
    );
    let untouched = std::fs::read_to_string(tmp.path().join("messy/entry.yaml")).unwrap();
    assert!(untouched.contains("'>=5'"), "--check wrote the file");
    arrears_in(tmp.path(), &["fmt", "messy"]);
    let out = arrears_in(tmp.path(), &["fmt", "--check", "messy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let (tmp, _dir) = messy();
    let out = arrears_in(tmp.path(), &["fmt", "--diff", "messy/exit.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_snapshot!("fmt_diff", stdout(&out));
    let untouched = std::fs::read_to_string(tmp.path().join("messy/exit.toml")).unwrap();
    assert!(untouched.contains("'<= ($0)'"));
}

#[test]
fn a_file_that_does_not_parse_is_reported_at_its_line_and_never_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = "table: t\nhit: first\ninputs: {x: account.x}\noutputs: {y: text}\nrows:\n  - id: a\n    when: {x: '>=  [1..'}\n    then: {y: '\"a\"'}\n";
    std::fs::write(tmp.path().join("t.yaml"), broken).unwrap();
    std::fs::write(tmp.path().join("u.yaml"), "table: [\n").unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "."]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("./t.yaml:7:"), "{err}");
    assert!(err.contains("./u.yaml:"), "{err}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("t.yaml")).unwrap(),
        broken
    );
}

#[cfg(unix)]
#[test]
fn a_rewrite_keeps_the_mode_and_a_symlink_met_in_a_walk_is_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, dir) = messy();
    let entry = dir.join("entry.yaml");
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o640)).unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::copy(dir.join("exit.toml"), outside.join("exit.toml")).unwrap();
    std::fs::remove_file(dir.join("exit.toml")).unwrap();
    std::os::unix::fs::symlink(outside.join("exit.toml"), dir.join("exit.toml")).unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "messy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mode = std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert!(std::fs::symlink_metadata(dir.join("exit.toml"))
        .unwrap()
        .file_type()
        .is_symlink());
    let target = std::fs::read_to_string(outside.join("exit.toml")).unwrap();
    assert!(
        target.contains("'<= ($0)'"),
        "the walk wrote through a symlink"
    );
}

/// The subcommands as clap knows them: the list the completions must cover.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory;
    arrears::cli::Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect()
}

#[test]
fn bash_completions_name_every_subcommand() {
    let out = arrears_in(root(), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    let script = stdout(&out);
    let names = subcommands();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let offered = script
            .split_whitespace()
            .any(|w| w.trim_matches('"') == name);
        assert!(offered, "{name} is not offered");
    }
    // `lint --explain` completes diagnostic codes, not file names.
    let explain = script
        .split("--explain)")
        .find(|after| after.trim_start().starts_with("COMPREPLY=($(compgen -W \""))
        .expect("lint --explain completes from a word list");
    assert!(explain.contains(" table-gap "), "{}", &explain[..200]);
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = arrears_in(root(), &["completions", shell]);
        assert!(
            out.status.code() == Some(0) && stdout(&out).contains("dry-run"),
            "{shell}"
        );
    }
}

#[test]
fn man_prints_the_main_page_and_writes_one_per_command() {
    let out = arrears_in(root(), &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    let header: String = page.lines().take(12).collect::<Vec<_>>().join("\n");
    assert_snapshot!("man_header", header);
    let tmp = tempfile::tempdir().unwrap();
    let out = arrears_in(tmp.path(), &["man", "--out", "pages"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for name in subcommands().iter().filter(|n| *n != "help") {
        let page =
            std::fs::read_to_string(tmp.path().join(format!("pages/arrears-{name}.1"))).unwrap();
        assert!(page.contains(&format!(".TH arrears-{name} 1")), "{name}");
        // The synopsis as it is typed, not the page's name.
        let typed = format!("arrears {name}").replace('-', "\\-");
        let synopsis = page.split(".SH SYNOPSIS\n").nth(1).unwrap_or_default();
        assert!(
            synopsis.starts_with(&format!("\\fB{typed}\\fR")),
            "{name}: {synopsis}"
        );
        assert_exit_status(&page, Some(name));
    }
    // What 1 means is the command's own.
    let simulate = std::fs::read_to_string(tmp.path().join("pages/arrears-simulate.1")).unwrap();
    assert!(
        simulate.contains("A timeline stopped on a day"),
        "{simulate}"
    );
    let main = std::fs::read_to_string(tmp.path().join("pages/arrears.1")).unwrap();
    assert_exit_status(&main, None);
}

/// A page's EXIT STATUS lists the codes its command can end with, each with
/// its meaning, before VERSION.
fn assert_exit_status(page: &str, command: Option<&str>) {
    let (before, section) = page
        .split_once(".SH \"EXIT STATUS\"\n")
        .unwrap_or_else(|| panic!("{command:?}: no EXIT STATUS"));
    assert!(!before.contains(".SH VERSION"), "{command:?}");
    let section = section.split("\n.SH ").next().unwrap_or_default();
    let codes: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("\\fB")?.strip_suffix("\\fR"))
        .collect();
    let mut expected: Vec<String> = arrears::cli::Exit::of_command(command)
        .into_iter()
        .map(|e| (e as u8).to_string())
        .collect();
    if matches!(command, None | Some("batch" | "diff" | "generate")) {
        expected.push("129, 130, 143".into());
    }
    assert_eq!(codes, expected, "{command:?}");
}

/// The README's exit-code table and the manual pages come from one list.
#[test]
fn the_readme_documents_every_exit_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let table = readme.split("### Exit codes").nth(1).unwrap();
    let codes: Vec<String> = table
        .lines()
        .skip_while(|l| !l.starts_with("|---"))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1).map(|c| c.trim().to_string()))
        .collect();
    let mut expected: Vec<String> = arrears::cli::Exit::ALL
        .into_iter()
        .map(|e| (e as u8).to_string())
        .collect();
    expected.push("129, 130, 143".into());
    assert_eq!(codes, expected);
}

#[test]
fn a_cell_over_several_lines_keeps_its_layout_and_gets_a_note_when_it_is_not_canonical() {
    let tmp = tempfile::tempdir().unwrap();
    let table = "table: t\nhit: first\ninputs:\n  laid_out: >-\n    max(account.a,\n        $0)\n  careless: >-\n    max((account.a),\n        $0)\noutputs: {y: text}\nrows: []\n";
    std::fs::write(tmp.path().join("t.yaml"), table).unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "--check", "t.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "note: t.yaml:8:5: kept as written: this cell spans lines, so `arrears fmt` leaves its layout to you; its canonical form is `max(account.a, $0)`\n"
    );
}

/// A YAML alias of a table cell is formatted through its anchor, with no
/// note; an alias of a value written outside any cell gets a note saying so.
#[test]
fn an_alias_is_formatted_at_its_anchor() {
    let tmp = tempfile::tempdir().unwrap();
    let table = "table: t\nhit: first\ninputs:\n  dpd: account.days_past_due\noutputs:\n  bucket: text\nrows:\n  - &r1\n    id: a\n    when: &w { dpd: \">=1\" }\n    then: { bucket: '\"a\"' }\n  - <<: *r1\n    id: b\n    then: { bucket: '\"b\"' }\n  - id: c\n    when: *w\n    then: { bucket: '\"c\"' }\n";
    std::fs::write(tmp.path().join("t.yaml"), table).unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "t.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let text = std::fs::read_to_string(tmp.path().join("t.yaml")).unwrap();
    assert_eq!(text, table.replace(">=1", ">= 1"));
    let outside = "table: t\ndescription: &d \">=1\"\nhit: first\ninputs:\n  dpd: account.days_past_due\noutputs:\n  bucket: text\nrows:\n  - id: a\n    when: { dpd: *d }\n    then: { bucket: '\"a\"' }\n";
    std::fs::write(tmp.path().join("t.yaml"), outside).unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "--check", "t.yaml"]);
    assert_eq!(
        stderr(&out),
        "note: t.yaml:10:18: kept as written: this cell is a YAML alias, so its text is where its anchor is; its canonical form is `>= 1`; write it at the anchor\n"
    );
}

/// One file named twice, by two paths or through a link, is formatted and counted once.
#[test]
fn a_file_named_twice_is_formatted_once() {
    let (tmp, dir) = messy();
    std::os::unix::fs::symlink(dir.join("entry.yaml"), tmp.path().join("link.yaml")).unwrap();
    let out = arrears_in(
        tmp.path(),
        &[
            "fmt",
            "--check",
            "messy/entry.yaml",
            "./messy/entry.yaml",
            "link.yaml",
        ],
    );
    assert_eq!(
        stdout(&out),
        "would reformat ./messy/entry.yaml\n1 file would be reformatted, 0 already formatted\n"
    );
}

/// A file keeps the line ending most of its lines have: one CRLF pasted into
/// an LF file is mended, not spread to every line, and the other way round.
#[test]
fn mixed_line_endings_become_the_files_usual_one() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    copy_dir(&root().join("rules"), &rules);
    let lf = rules.join("dpd_bucket.yaml");
    let crlf = rules.join("risk_segment.yaml");
    let mix = |path: &Path, usual: &str, stray: &str| {
        let text = std::fs::read_to_string(path).unwrap().replace("\r\n", "\n");
        let mut lines: Vec<String> = text.lines().map(|l| format!("{l}{usual}")).collect();
        lines[3] = lines[3].replace(usual, stray);
        std::fs::write(path, lines.concat()).unwrap();
    };
    mix(&lf, "\n", "\r\n");
    mix(&crlf, "\r\n", "\n");
    let out = arrears_in(tmp.path(), &["fmt", "rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lf = std::fs::read_to_string(&lf).unwrap();
    assert!(!lf.contains('\r'), "an LF file stays LF");
    let crlf = std::fs::read_to_string(&crlf).unwrap();
    assert_eq!(
        crlf.matches("\r\n").count(),
        crlf.matches('\n').count(),
        "a CRLF file stays CRLF"
    );
}

/// Files that cannot be read are exit 2 and one `error:` line, however many
/// there are; the others are still formatted.
#[test]
fn unreadable_files_are_one_error_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.yaml"), b"table: a\n\xff\n").unwrap();
    std::fs::write(tmp.path().join("b.yaml"), b"table: b\n\xfe\n").unwrap();
    std::fs::copy(
        root().join("rules/dpd_bucket.yaml"),
        tmp.path().join("c.yaml"),
    )
    .unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: ./a.yaml:2:1: rule file is not valid UTF-8; save the file as UTF-8 (and 1 more file(s) that could not be read)\n"
    );
    assert!(
        stdout(&out).contains("1 already formatted, 2 not formatted"),
        "{}",
        stdout(&out)
    );
}

/// Tester 12 item 9: one-line cells written as a TOML `"""..."""` string or
/// with a `\u` / `\x` escape are rewritten in canonical form (no "spans
/// lines" note), so `--check` finds them; a second check passes.
#[test]
fn one_line_cells_with_escapes_or_triple_quotes_are_formatted() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = "table = \"t\"\nhit = \"first\"\n\n[inputs]\nd = \"account.days_past_due\"\n\n[outputs]\nr = \"text\"\n\n[[rows]]\nid = \"a\"\nwhen = { d = \"\"\">=5\"\"\" }\nthen = { r = '\"a\"' }\n\n[[rows]]\nid = \"b\"\nwhen = { d = \"<\\u0031\" }\nthen = { r = '\"b\"' }\n\n[default]\nr = \"null\"\n";
    let yaml = "table: u\nhit: first\ninputs:\n  d: account.days_past_due\noutputs:\n  r: text\nrows:\n  - id: a\n    when: { d: \"<\\x31\" }\n    then: { r: \"null\" }\ndefault: { r: \"null\" }\n";
    std::fs::write(tmp.path().join("t.toml"), toml).unwrap();
    std::fs::write(tmp.path().join("u.yaml"), yaml).unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "--check", "t.toml", "u.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(
        stdout(&out),
        "would reformat t.toml\nwould reformat u.yaml\n2 files would be reformatted, 0 already formatted\n"
    );
    let out = arrears_in(tmp.path(), &["fmt", "t.toml", "u.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("t.toml")).unwrap(),
        toml.replace("\"\"\">=5\"\"\"", "\">= 5\"")
            .replace("\"<\\u0031\"", "\"< 1\"")
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("u.yaml")).unwrap(),
        yaml.replace("\"<\\x31\"", "\"< 1\"")
    );
    let out = arrears_in(tmp.path(), &["fmt", "--check", "t.toml", "u.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// Tester 12 item 14: a file that is not UTF-8 is reported at its first bad
/// byte's line and column, as `lint` reports it, and left alone (exit 2).
#[test]
fn a_file_not_in_utf8_is_reported_at_its_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = b"table: t\nhit: first\n# caf\xe9\n".to_vec();
    std::fs::write(tmp.path().join("t.yaml"), &bytes).unwrap();
    let out = arrears_in(tmp.path(), &["fmt", "t.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: t.yaml:3:6: rule file is not valid UTF-8; save the file as UTF-8\n"
    );
    assert_eq!(std::fs::read(tmp.path().join("t.yaml")).unwrap(), bytes);
}

/// `fmt` on an empty file, one of comments only or an accounts file says it
/// is not a rule file (exit 3, as a file that does not parse), never
/// "already formatted", and leaves it as it is.
#[test]
fn a_file_that_is_no_rule_file_is_not_already_formatted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.yaml"), "").unwrap();
    std::fs::write(d.join("comments.toml"), "# nothing yet\n").unwrap();
    std::fs::copy(
        root().join("samples/accounts.yaml"),
        d.join("accounts.yaml"),
    )
    .unwrap();
    let mut seen = String::new();
    for file in ["empty.yaml", "comments.toml", "accounts.yaml"] {
        let before = std::fs::read(d.join(file)).unwrap();
        for check in [false, true] {
            let mut args = vec!["fmt", file];
            if check {
                args.insert(1, "--check");
            }
            let o = arrears_in(d, &args);
            assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
            assert!(
                stdout(&o).contains("0 already formatted, 1 not formatted"),
                "{}",
                stdout(&o)
            );
            if !check {
                seen += &format!("{file}\n{}\n", stderr(&o));
            }
        }
        assert_eq!(
            std::fs::read(d.join(file)).unwrap(),
            before,
            "{file} changed"
        );
    }
    assert_snapshot!("not_a_rule_file", seen);
}
