//! Any text through the expression parser: a value or a `ParseError`, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = arrears::lang::syntax::parse_expr(text) {
            // Error spans must lie inside the text (the checker slices with them).
            assert!(
                e.span.start <= e.span.end && e.span.end <= text.len() + 1,
                "{e:?}"
            );
        }
    }
});
