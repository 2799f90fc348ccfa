//! parse → print → parse: the canonical form of an expression or a cell
//! re-parses, and prints the same again. The first byte picks expression or cell.
#![no_main]

use libfuzzer_sys::fuzz_target;

use arrears::lang::syntax::{parse_cell, parse_expr};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(expr) = parse_expr(text) {
            let printed = expr.to_string();
            let again = parse_expr(&printed).unwrap_or_else(|e| {
                panic!("`{text}` printed as `{printed}` does not re-parse: {e}")
            });
            assert_eq!(printed, again.to_string(), "from `{text}`");
        }
    } else if let Ok(cell) = parse_cell(text) {
        let printed = cell.to_string();
        let again = parse_cell(&printed)
            .unwrap_or_else(|e| panic!("`{text}` printed as `{printed}` does not re-parse: {e}"));
        assert_eq!(printed, again.to_string(), "from `{text}`");
    }
});
