//! Checks made before pest sees the text: bracket nesting (pest recurses on
//! nested brackets, so the limit is enforced here first), unclosed text and
//! numbers written with thousands separators. It reads characters only and
//! must not build any syntax.

use super::{too_deep, ParseError, MAX_NESTING};
use crate::source::Span;

/// Checks bracket nesting (pest recurses on nested brackets), unclosed text
/// and thousands separators before handing the input to pest.
pub(super) fn prescan(text: &str) -> Result<(), ParseError> {
    let mut depth = 0usize;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '0'..='9' | '$' => thousands_separator(text, i)?,
            '"' => {
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                if !closed {
                    return Err(ParseError::new("unclosed text", Span::new(i, i + 1))
                        .with_help("end the text with a closing `\"`"));
                }
            }
            '(' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(too_deep(Span::new(i, i + 1)));
                }
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// `1,000`, `$2,500.00`, `12,500,000`: a number whose digits are followed by
/// groups of exactly three digits after a comma with no space would lex as a
/// list (`1`, `000`) and match far more than meant. `1, 2, 3` and `"CA","TX"`
/// are lists; `1,000` is refused with the number to write instead.
fn thousands_separator(text: &str, start: usize) -> Result<(), ParseError> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$';
    if start > 0 && is_word(bytes[start - 1]) {
        return Ok(()); // inside a name, a number or a decimal's fraction
    }
    let digits_from = |i: usize| bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut end = start + usize::from(bytes[start] == b'$');
    let lead = digits_from(end);
    if lead == 0 {
        return Ok(());
    }
    end += lead;
    let mut groups = 0;
    while bytes.get(end) == Some(&b',') && digits_from(end + 1) == 3 {
        end += 4;
        groups += 1;
    }
    if groups == 0 {
        return Ok(());
    }
    if bytes.get(end) == Some(&b'.') && digits_from(end + 1) > 0 {
        end += 1 + digits_from(end + 1);
    }
    let written = &text[start..end];
    Err(ParseError::new(
        format!("`{written}` has a thousands separator, so it reads as a list of numbers"),
        Span::new(start, end),
    )
    .with_help(format!(
        "write `{}` (numbers have no thousands separators); for a list, put a space after each comma: `{}`",
        written.replace(',', ""),
        written.replace(',', ", ")
    )))
}
