//! Any text through the condition-cell parser: a cell or a `ParseError`, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = arrears::lang::syntax::parse_cell(text) {
            assert!(
                e.span.start <= e.span.end && e.span.end <= text.len() + 1,
                "{e:?}"
            );
        }
    }
});
