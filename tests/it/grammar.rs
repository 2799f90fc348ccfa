//! Data-driven grammar fixtures: every line of `tests/fixtures/grammar/*.txt`
//! is parsed and the results are snapshotted as one text per file.

use std::fmt::Write;

use arrears::lang::syntax::{parse_cell, parse_expr, ParseError};

fn fixture_lines(name: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/fixtures/grammar/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn describe_error(input: &str, e: &ParseError) -> String {
    assert!(
        e.span.start <= e.span.end && e.span.end <= input.len(),
        "{input:?}: bad span {:?}",
        e.span
    );
    assert!(!e.message.is_empty());
    let mut out = if e.span.is_empty() {
        format!("error at col {}: {}", e.span.start + 1, e.message)
    } else {
        format!(
            "error at col {}-{}: {}",
            e.span.start + 1,
            e.span.end,
            e.message
        )
    };
    if let Some(help) = &e.help {
        let _ = write!(out, " (help: {help})");
    }
    out
}

/// Parses each line, checks the printed form re-parses to the same form.
fn run_valid<T: std::fmt::Display>(
    file: &str,
    parse: impl Fn(&str) -> Result<T, ParseError>,
) -> String {
    let mut out = String::new();
    for line in fixture_lines(file) {
        match parse(&line) {
            Ok(tree) => {
                let printed = tree.to_string();
                let again = parse(&printed)
                    .unwrap_or_else(|e| panic!("{line:?} printed as {printed:?} fails: {e}"));
                assert_eq!(again.to_string(), printed, "round trip of {line:?}");
                writeln!(out, "{line}  =>  {printed}").unwrap();
            }
            Err(e) => panic!("{line:?} should parse: {}", describe_error(&line, &e)),
        }
    }
    out
}

fn run_invalid<T: std::fmt::Display>(
    file: &str,
    parse: impl Fn(&str) -> Result<T, ParseError>,
) -> String {
    let mut out = String::new();
    for line in fixture_lines(file) {
        match parse(&line) {
            Ok(tree) => panic!("{line:?} should not parse, got {tree}"),
            Err(e) => writeln!(out, "{line}  =>  {}", describe_error(&line, &e)).unwrap(),
        }
    }
    out
}

#[test]
fn valid_exprs() {
    assert_snapshot!("valid_exprs", run_valid("valid_exprs.txt", parse_expr));
}

#[test]
fn valid_cells() {
    assert_snapshot!("valid_cells", run_valid("valid_cells.txt", parse_cell));
}

#[test]
fn invalid_exprs() {
    assert_snapshot!(
        "invalid_exprs",
        run_invalid("invalid_exprs.txt", parse_expr)
    );
}

#[test]
fn invalid_cells() {
    assert_snapshot!(
        "invalid_cells",
        run_invalid("invalid_cells.txt", parse_cell)
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [65, 100, 10_000] {
        let parens = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
        let e = parse_expr(&parens).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{}", e.message);
        let e = parse_cell(&parens).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{}", e.message);
        let calls = format!("{}x{}", "f(".repeat(depth), ")".repeat(depth));
        assert!(parse_expr(&calls)
            .unwrap_err()
            .message
            .contains("nested too deeply"));
        let negs = format!("{}x", "-".repeat(depth));
        assert!(parse_expr(&negs)
            .unwrap_err()
            .message
            .contains("nested too deeply"));
        let nots = format!("{}x", "not ".repeat(depth));
        assert!(parse_expr(&nots)
            .unwrap_err()
            .message
            .contains("nested too deeply"));
        // A flat chain is as deep as it is long, and is called a chain.
        let sums = vec!["1"; depth + 1].join(" + ");
        let e = parse_expr(&sums).unwrap_err();
        assert!(
            e.message.contains("a chain of `+` has more than 64 terms"),
            "{}",
            e.message
        );
        let ors = vec!["x = 1"; depth + 1].join(" or ");
        let e = parse_expr(&ors).unwrap_err();
        assert!(e.message.contains("a chain of `or`"), "{}", e.message);
        assert!(
            e.help
                .as_deref()
                .unwrap_or("")
                .contains("list the values in its cell"),
            "{:?}",
            e.help
        );
        // What the help says works: grouped, the same terms parse.
        let groups = vec![format!("({})", vec!["x = 1"; 25].join(" or ")); 4].join(" or ");
        assert!(parse_expr(&groups).is_ok());
        // Deep on the right of a chain is nesting, not length.
        let parens = format!("x or y or {}1{}", "(".repeat(depth), ")".repeat(depth));
        assert!(parse_expr(&parens)
            .unwrap_err()
            .message
            .contains("nested too deeply"));
    }
    // At the limit it still parses.
    let ok = format!("{}1{}", "(".repeat(64), ")".repeat(64));
    assert!(parse_expr(&ok).is_ok());
}
