//! Inputs the fuzz targets in `fuzz/` found crashing, kept as regression tests.
//! Each is checked the way its target checks it.

use arrears::lang::syntax::{parse_cell, parse_expr};

/// The `roundtrip` target: a parsed expression prints to text that parses to the same print.
fn expr_round_trips(text: &str) {
    if let Ok(expr) = parse_expr(text) {
        let printed = expr.to_string();
        let again = parse_expr(&printed)
            .unwrap_or_else(|e| panic!("`{text}` printed as `{printed}` does not re-parse: {e}"));
        assert_eq!(printed, again.to_string(), "from `{text}`");
    }
}

fn cell_round_trips(text: &str) {
    if let Ok(cell) = parse_cell(text) {
        let printed = cell.to_string();
        let again = parse_cell(&printed)
            .unwrap_or_else(|e| panic!("`{text}` printed as `{printed}` does not re-parse: {e}"));
        assert_eq!(printed, again.to_string(), "from `{text}`");
    }
}

/// roundtrip crash-03e12385: a decimal with 29 significant digits was rounded
/// (to a whole number that then printed as an integer too large to re-parse).
/// Such literals are now refused: money is exact or an error.
#[test]
fn decimal_literal_with_too_many_digits_is_refused_not_rounded() {
    let text = "66666666668888666666666666669.999199";
    expr_round_trips(text);
    cell_round_trips(text);
    let err = parse_expr(text).unwrap_err();
    assert_eq!(
        err.message,
        "number `66666666668888666666666666669.999199` has more digits than a decimal holds"
    );
    assert_eq!(
        err.help.as_deref(),
        Some("numbers have at most 28 significant digits")
    );
    for text in [
        "$0.00000000000000000000000000001",
        "1.00000000000000000000000000001%",
    ] {
        assert!(parse_expr(text).is_err(), "{text}");
    }
    // 28 digits still parse, exactly, and print back as written.
    for text in [
        "7922816251426433759354395033.5",
        "0.0000000000000000000000000001",
    ] {
        let expr = parse_expr(text).unwrap_or_else(|e| panic!("`{text}` is refused: {e}"));
        assert_eq!(expr.to_string(), text);
        expr_round_trips(text);
    }
}
