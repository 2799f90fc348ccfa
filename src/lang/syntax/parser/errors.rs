//! Error mapping: pest's failure position and expected rules turned into a
//! short lowercase sentence at the offending token, with a fix hint for a
//! recognisable mistake (`=>`, `&&`, single quotes, `[30-59]`, `(1,5]`, a
//! thousands separator's cousins). It reads rough tokens of the text and must
//! not build any syntax.

use super::{Mode, ParseError, Rule};
use crate::source::Span;

/// A rough token of the input, used to describe where parsing failed.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    start: usize,
}

impl Tok<'_> {
    fn end(&self) -> usize {
        self.start + self.text.len()
    }
    fn is_word(&self) -> bool {
        self.text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    }
    fn is_number(&self) -> bool {
        self.text.chars().next().is_some_and(|c| c.is_ascii_digit())
    }
    /// Could end a value (so an operator or separator may follow).
    fn ends_value(&self) -> bool {
        (self.is_word() && !is_operator_keyword(self.text))
            || self.is_number()
            || self.text.starts_with('"')
            || self.text == ")"
            || self.text == "]"
            || self.text == "%"
    }
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "true", "false", "null", "in", "where", "day", "days",
];

fn is_operator_keyword(word: &str) -> bool {
    matches!(word, "and" | "or" | "not" | "in" | "where")
}

const TWO_CHAR: &[&str] = &[">=", "<=", "==", "!=", "<>", "&&", "||", "..", "=>", "=<"];

/// Splits text into rough tokens: words, numbers, strings, operators.
fn rough_tokens(text: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let len = if c.is_ascii_alphabetic() || c == '_' {
            text[i..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(text.len() - i)
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < text.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < text.len() && bytes[j] == b'.' && bytes[j + 1].is_ascii_digit() {
                j += 1;
                while j < text.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
            }
            j - i
        } else if c == '"' {
            let mut j = i + 1;
            let mut closed = false;
            while j < text.len() {
                match bytes[j] {
                    b'\\' => j += 2,
                    b'"' => {
                        j += 1;
                        closed = true;
                        break;
                    }
                    _ => j += 1,
                }
            }
            if closed && j <= text.len() && text.is_char_boundary(j) {
                j - i
            } else {
                1
            }
        } else if TWO_CHAR.iter().any(|op| text[i..].starts_with(op)) {
            2
        } else {
            c.len_utf8()
        };
        toks.push(Tok {
            text: &text[start..start + len],
            start,
        });
        i = start + len.max(1);
    }
    toks
}

/// What pest expected, in words.
fn describe_expected(positives: &[Rule], mode: Mode, at_start: bool) -> String {
    let value = positives.iter().any(|r| {
        matches!(
            r,
            Rule::date
                | Rule::dollar
                | Rule::percent
                | Rule::days
                | Rule::coded_money
                | Rule::number
                | Rule::text
                | Rule::kw_true
                | Rule::kw_false
                | Rule::kw_null
                | Rule::call
                | Rule::path
                | Rule::paren
                | Rule::expr
                | Rule::op_not
                | Rule::op_neg
                | Rule::unary_test
                | Rule::compare_test
                | Rule::range_test
        )
    });
    let test_start = positives.iter().any(|r| {
        matches!(
            r,
            Rule::cmp_op
                | Rule::range_open
                | Rule::range_test
                | Rule::compare_test
                | Rule::unary_test
        )
    });
    let value_words = if mode == Mode::Cell && (at_start || test_start) {
        "a test such as `>= 5`, `[1..9]` or `\"CA\"`"
    } else {
        "an expression"
    };
    let mut items: Vec<&str> = Vec::new();
    let mut push = |s: &'static str| {
        if !items.contains(&s) {
            items.push(s);
        }
    };
    if value {
        push(value_words);
    }
    for r in positives {
        match r {
            Rule::op_or
            | Rule::op_and
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_lt
            | Rule::op_le
            | Rule::op_gt
            | Rule::op_ge
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div => push("an operator"),
            Rule::cmp_op => push("a comparison such as `>=`"),
            Rule::range_sep => push("`..`"),
            Rule::range_close => push("`]` or `)`"),
            Rule::close_paren => push("`)`"),
            // `(` and names also start expressions.
            Rule::open_paren | Rule::ident if value => {}
            Rule::comma => push("`,`"),
            Rule::colon => push("`:`"),
            Rule::kw_in => push("`in`"),
            Rule::kw_where => push("`where`"),
            Rule::currency => push("a currency code such as `USD`"),
            Rule::days_unit => push("`days`"),
            Rule::ident => push("a name"),
            Rule::EOI => push("the end of the text"),
            _ => {}
        }
    }
    match items.len() {
        0 => value_words.to_string(),
        1 => items[0].to_string(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

pub(super) fn convert_error(text: &str, err: &pest::error::Error<Rule>, mode: Mode) -> ParseError {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
    .min(text.len());
    // A character pasted from a word processor or a spreadsheet, which looks
    // right on screen: the cause, wherever the parser stopped after it.
    if let Some((at, c, fix)) = outside_text(text).find_map(|(i, c)| pasted(c).map(|f| (i, c, f))) {
        return ParseError::new(
            format!(
                "`{c}` (U+{:04X}) is not a character of the rule language",
                c as u32
            ),
            Span::new(at, at + c.len_utf8()),
        )
        .with_help(format!(
            "{fix}; it looks like a character pasted from a word processor or a spreadsheet"
        ));
    }
    let positives: Vec<Rule> = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let toks = rough_tokens(text);
    let cur = toks
        .iter()
        .copied()
        .find(|t| t.start <= pos && pos < t.end());
    // A failure inside a token (e.g. after `$`) is reported at that token.
    let cur = cur.map(|t| {
        if t.start < pos && !t.text.starts_with('"') {
            Tok {
                text: &text[pos..t.end()],
                start: pos,
            }
        } else {
            t
        }
    });
    let mut prev = toks.iter().copied().rfind(|t| t.end() <= pos);
    // Failing inside a rough token (`=>` fails at `>`): the part before is `prev`.
    if let Some(t) = toks.iter().find(|t| t.start < pos && pos < t.end()) {
        if !t.text.starts_with('"') {
            prev = Some(Tok {
                text: &text[t.start..pos],
                start: t.start,
            });
        }
    }
    let at_start = prev.is_none();
    let expected = describe_expected(&positives, mode, at_start);
    let expects_value = expected.starts_with("an expression") || expected.starts_with("a test");
    // After `(`, a comma or at the start of a cell a whole test is expected.
    let expected = expected.replace(
        "a test such as `>= 5`, `[1..9]` or `\"CA\"`",
        if at_start {
            "a test such as `>= 5`, `[1..9]` or `\"CA\"`"
        } else {
            "a test"
        },
    );

    let span = match cur {
        Some(t) => Span::new(t.start, t.end().max(t.start + 1).min(text.len())),
        // Not at a token (e.g. whitespace inside `$ 5`): one character wide.
        None => match text[pos..].chars().next() {
            Some(c) => Span::new(pos, pos + c.len_utf8()),
            None => Span::new(pos, pos),
        },
    };

    // `$` not followed by an amount.
    if let Some(p) = prev {
        if p.text == "$" && p.end() == pos {
            let span = if cur.is_some() {
                span
            } else {
                Span::new(p.start, p.end())
            };
            return ParseError::new("expected an amount after `$`", span)
                .with_help("write money as `$5` or `$5.00`");
        }
    }
    if let Some(t) = cur {
        if t.text == "$" {
            return ParseError::new("expected an amount after `$`", Span::new(t.start, t.end()))
                .with_help("write money as `$5` or `$5.00`");
        }
    }

    let Some(cur) = cur else {
        // End of input.
        if !expects_value {
            if let Some(open) = unclosed_bracket(text) {
                let (ch, help) = if open.1 == '[' {
                    ('[', "close the range with `]` or `)`")
                } else {
                    ('(', "add a closing `)`")
                };
                return ParseError::new(format!("unclosed `{ch}`"), Span::new(open.0, open.0 + 1))
                    .with_help(help);
            }
        }
        let message = match prev {
            Some(p) => format!("expected {expected} after `{}`", p.text),
            None => format!("expected {expected}"),
        };
        return ParseError::new(message, span);
    };

    if mode == Mode::Cell && matches!(cur.text, "]" | ")") {
        if let Some((dash, fixed)) = dash_range_fix(text, cur.start) {
            return ParseError::new(
                "a range is written with `..`, not `-`",
                Span::new(dash, dash + 1),
            )
            .with_help(format!("write `{fixed}`"));
        }
    }
    let message = match prev {
        Some(p) => format!("unexpected `{}` after `{}`", cur.text, p.text),
        None => format!("expected {expected}, found `{}`", cur.text),
    };
    let error = ParseError::new(message, span);
    match hint(text, cur, prev, mode, expects_value) {
        Some(help) => error.with_help(help),
        None if prev.is_some() => error.with_help(format!("expected {expected} here")),
        None => error,
    }
}

/// The characters of `text` (with their offsets) that are not inside a quoted
/// text literal (`"..."`, with `\\` escapes); the quotes themselves are left out.
fn outside_text(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut in_text = false;
    let mut escaped = false;
    text.char_indices().filter(move |&(_, c)| {
        if in_text {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_text = false,
                _ => {}
            }
            false
        } else if c == '"' {
            in_text = true;
            false
        } else {
            true
        }
    })
}

/// What to write instead of a look-alike character that editors substitute.
fn pasted(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{a0}' | '\u{2007}' | '\u{202f}' => "write an ordinary space",
        '\u{2009}' | '\u{200b}' | '\u{feff}' => "delete it, or write an ordinary space",
        '≥' => "write `>=`",
        '≤' => "write `<=`",
        '≠' => "write `!=`",
        '“' | '”' | '„' | '″' => "write text in straight double quotes: `\"CA\"`",
        '‘' | '’' | '′' => "write text in straight double quotes: `\"CA\"`",
        '–' | '—' | '−' => "write `-` to subtract, or `..` in a range such as `[1..29]`",
        '×' => "write `*`",
        '÷' => "write `/`",
        '…' => "write `..` for a range, as in `[1..29]`",
        _ => return None,
    })
}

/// The first `(` or `[` that is never closed, if any.
fn unclosed_bracket(text: &str) -> Option<(usize, char)> {
    let mut stack = Vec::new();
    for (i, c) in outside_text(text) {
        match c {
            '(' | '[' => stack.push((i, c)),
            ')' | ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.first().copied()
}

/// A fix for a recognisable mistake at token `cur`.
fn hint(
    text: &str,
    cur: Tok<'_>,
    prev: Option<Tok<'_>>,
    mode: Mode,
    expects_value: bool,
) -> Option<String> {
    if cur.text == "." && text[cur.end()..].starts_with(|c: char| c.is_ascii_digit()) {
        return Some("write a decimal with a digit before the point, as in `0.5`".into());
    }
    match cur.text {
        "&&" => return Some("write `and`".into()),
        "||" => return Some("write `or`".into()),
        "!" => return Some("write `not` to negate, or `!=` for not equal".into()),
        "'" => {
            let rest = &text[cur.end()..];
            let inner = rest.split('\'').next().unwrap_or("");
            return Some(format!("text uses double quotes: \"{inner}\""));
        }
        _ => {}
    }
    // `x in [a, b]` (SQL, FEEL): the language tests membership in cells.
    let after = text[cur.end()..].trim_start();
    if cur.text == "in" && (prev.is_some_and(|p| p.ends_value()) || after.starts_with(['[', '('])) {
        // The values as a cell lists them: what was in the brackets.
        let values = after
            .strip_prefix(['[', '('])
            .and_then(|rest| rest.split_once([']', ')']))
            .map(|(inner, _)| {
                inner
                    .split(',')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|values| !values.is_empty())
            .unwrap_or_else(|| "a, b".into());
        return Some(match mode {
            Mode::Expr => format!("`in` is only for the item of `any(x in list : ...)` and the other list functions; to test a value against several, make the value an input and list them in its cell: `{values}`"),
            Mode::Cell => format!("a cell lists the values it accepts, without `in`: `{values}`"),
        });
    }
    if let Some(p) = prev {
        let fix = match (p.text, cur.text.get(..1).unwrap_or("")) {
            (">=", "=") | ("=", ">") => Some(">="),
            ("<=", "=") | ("=", "<") => Some("<="),
            ("==", "=") => Some("="),
            ("!=", "=") => Some("!="),
            ("=>", _) => Some(">="),
            ("=<", _) => Some("<="),
            _ => None,
        };
        if let Some(fix) = fix {
            return Some(format!("write `{fix}`"));
        }
        if mode == Mode::Cell && cur.text == ".." && p.ends_value() {
            let (seg, _) = segment_at(text, cur.start);
            return Some(format!("write a range as `[{}]`", seg.trim()));
        }
        if mode == Mode::Cell && cur.text == "," {
            if let Some((low, high, range)) = comma_range_fix(text, cur.start) {
                let number =
                    |v: &str| v.starts_with(|c: char| c.is_ascii_digit() || "$-+.".contains(c));
                // `[1, 29]` may be an interval; `[card, utility]` is a list
                // (a range of variants would take those between them too).
                let list = range.starts_with('[') && range.ends_with(']');
                return Some(if number(&low) && number(&high) && list {
                    format!("write a range as `{range}`, or list the values without brackets: `{low}, {high}`")
                } else if number(&low) && number(&high) || !list {
                    format!("write a range as `{range}`")
                } else {
                    format!("a cell lists the values it accepts, without brackets: `{low}, {high}`")
                });
            }
        }
        if p.is_number() && cur.is_word() && cur.text.chars().all(|c| c.is_ascii_alphabetic()) {
            if cur.text == "day" || cur.text == "days" {
                return None;
            }
            if cur.text.len() == 3 || cur.text.chars().all(|c| c.is_ascii_uppercase()) {
                return Some(
                    "a currency code is three capital letters, as in `5.00 USD`".to_string(),
                );
            }
        }
        if mode == Mode::Cell
            && ((cur.text == ".." && (p.text == "[" || p.text == "("))
                || (p.text == ".." && (cur.text == "]" || cur.text == ")")))
        {
            return Some("a range needs both bounds, as in `[1..5]`".into());
        }
        if mode == Mode::Cell && matches!(p.text, "and" | "or") && is_comparison(cur.text) {
            return Some(
                "a cell cannot join tests with `and`/`or`: use a range such as `(5..10)`, \
                 or list alternatives with `,`"
                    .into(),
            );
        }
        if cur.is_word() && KEYWORDS.contains(&cur.text) && expects_value {
            return Some(format!(
                "`{}` is a keyword; write text in double quotes: \"{}\"",
                cur.text, cur.text
            ));
        }
        if mode == Mode::Expr && p.is_word() && cur.is_word() && !text.contains('"') {
            // Two bare words: most often text written without its quotes.
            return Some(format!(
                "text is written in double quotes inside the cell (in YAML: `'\"{}\"'`); \
                 otherwise join the two with an operator such as `+` or `and`",
                text.trim()
            ));
        }
        if p.ends_value() && (cur.ends_value() || cur.text == "(" || cur.text == "$") {
            return Some(match mode {
                Mode::Cell => "separate tests with `,`".to_string(),
                Mode::Expr => "join the two with an operator such as `+` or `and`".to_string(),
            });
        }
    } else if mode == Mode::Expr && is_comparison(cur.text) {
        return Some(format!(
            "a comparison needs a value on its left, as in `account.arrears {} 5`",
            cur.text
        ));
    } else if cur.is_word() && KEYWORDS.contains(&cur.text) {
        return Some(format!(
            "`{}` is a keyword; write text in double quotes: \"{}\"",
            cur.text, cur.text
        ));
    }
    None
}

fn is_comparison(tok: &str) -> bool {
    matches!(tok, "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=")
}

/// The comma-separated segment of a cell containing `pos` (top level only),
/// and its start offset.
fn segment_at(text: &str, pos: usize) -> (&str, usize) {
    let mut start = 0;
    let mut depth = 0i32;
    for (i, c) in outside_text(text) {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth <= 0 => {
                if i >= pos {
                    return (&text[start..i], start);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    (&text[start..], start)
}

/// For `(1,5]`: the bracketed text with the comma at `pos` replaced by `..`.
/// `[30-59]` (a range written with a dash, read as `30 - 59`), closed at
/// `close`: where the dash is, and the range written right (`[30..59]`).
fn dash_range_fix(text: &str, close: usize) -> Option<(usize, String)> {
    let before = &text[..close];
    let open = before.rfind(['(', '['])?;
    let inner = &before[open + 1..];
    // The dash after the low bound (a leading `-` is the low bound's sign).
    let low_len = inner.trim_start().len();
    let skipped = inner.len() - low_len;
    let dash = skipped + 1 + inner.trim_start().get(1..)?.find('-')?;
    let (low, high) = (inner[..dash].trim(), inner[dash + 1..].trim());
    let number = |s: &str| {
        s.trim_start_matches(['-', '$'])
            .starts_with(|c: char| c.is_ascii_digit())
    };
    if !number(low) || !number(high) || inner.contains(['(', '[', ',']) {
        return None;
    }
    let (open_ch, close_ch) = (&text[open..open + 1], &text[close..close + 1]);
    Some((open + 1 + dash, format!("{open_ch}{low}..{high}{close_ch}")))
}

/// `[low, high]` around the comma at `pos`: its bounds and the range written `[low..high]`.
fn comma_range_fix(text: &str, pos: usize) -> Option<(String, String, String)> {
    let before = &text[..pos];
    let open = before.rfind(['(', '['])?;
    if before[open + 1..].contains([')', ']', ',']) {
        return None;
    }
    let after = &text[pos + 1..];
    let close = after.find([')', ']'])?;
    let close_ch = after[close..].chars().next()?;
    let open_ch = text[open..].chars().next()?;
    let low = before[open + 1..].trim();
    let high = after[..close].trim();
    if low.is_empty() || high.is_empty() || high.contains(',') {
        return None;
    }
    let range = format!("{open_ch}{low}..{high}{close_ch}");
    Some((low.to_string(), high.to_string(), range))
}
