//! One scalar as written in a YAML or TOML file: where its text ends, in
//! which style it is written (plain, single- or double-quoted, TOML bare,
//! literal or basic), and how a new text is written in that style, changing
//! the style only when the text cannot be written in it. It must not parse
//! documents: it reads the characters from a value's start, and refuses
//! (`None`) whatever it is not sure of (block scalars, aliases, tags, a value
//! spread over lines).

use crate::model::spanned::Format;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// YAML plain, TOML bare (a number or bool).
    Plain,
    /// YAML `'...'`, TOML literal `'...'`.
    Single,
    /// `"..."` with backslash escapes.
    Double,
}

/// A scalar found at `start`: its byte range and style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    pub start: usize,
    pub end: usize,
    pub style: Style,
}

/// The scalar written at `start` whose value is `value`, when it sits on one
/// line and reads back as exactly `value`.
pub fn find(text: &str, start: usize, value: &str, format: Format) -> Option<Written> {
    let rest = text.get(start..)?;
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (len, style, read) = match line.chars().next()? {
        // TOML's multi-line strings written on one line are rewritten as
        // ordinary ones when their text changes.
        '"' | '\''
            if format == Format::Toml
                && (line.starts_with("\"\"\"") || line.starts_with("'''")) =>
        {
            let (len, read) = toml_multi_line(line)?;
            (len, Style::Double, read)
        }
        '"' if line.starts_with("\"\"\"") => return None,
        '\'' if line.starts_with("'''") => return None,
        '"' => {
            let (len, read) = double_quoted(line, format)?;
            (len, Style::Double, read)
        }
        '\'' => {
            let (len, read) = single_quoted(line, format)?;
            (len, Style::Single, read)
        }
        _ => {
            let len = plain_len(line, value, format)?;
            (len, Style::Plain, line[..len].to_string())
        }
    };
    (read == value).then_some(Written {
        start,
        end: start + len,
        style,
    })
}

/// `"..."`: its length and what it reads as; `None` for an escape this does
/// not read (`find` compares the reading with the loaded value, so a misread
/// is refused, never written).
fn double_quoted(line: &str, format: Format) -> Option<(usize, String)> {
    let mut read = String::new();
    let mut chars = line.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((i + 1, read)),
            '\\' => {
                let (_, e) = chars.next()?;
                read.push(escape(e, &mut chars, format)?);
            }
            c => read.push(c),
        }
    }
    None
}

/// One escape after its `\`: those both formats have (`\\`, `\"`, `\n`, `\t`,
/// `\r`, `\b`, `\f`, `\uXXXX`, `\UXXXXXXXX`) and YAML's own (`\xXX`, `\0`,
/// `\a`, `\v`, `\e`, `\/`, `\ `, `\N`, `\_`, `\L`, `\P`).
fn escape(
    e: char,
    chars: &mut impl Iterator<Item = (usize, char)>,
    format: Format,
) -> Option<char> {
    let mut hex = |n: usize| {
        let digits: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
        let valid = digits.len() == n && digits.bytes().all(|b| b.is_ascii_hexdigit());
        valid
            .then(|| u32::from_str_radix(&digits, 16).ok())
            .flatten()
            .and_then(char::from_u32)
    };
    let yaml = format == Format::Yaml;
    Some(match e {
        '\\' => '\\',
        '"' => '"',
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'u' => hex(4)?,
        'U' => hex(8)?,
        '/' if yaml => '/',
        'x' if yaml => hex(2)?,
        '0' if yaml => '\0',
        'a' if yaml => '\u{7}',
        'v' if yaml => '\u{b}',
        'e' if yaml => '\u{1b}',
        ' ' if yaml => ' ',
        'N' if yaml => '\u{85}',
        '_' if yaml => '\u{a0}',
        'L' if yaml => '\u{2028}',
        'P' if yaml => '\u{2029}',
        _ => return None,
    })
}

/// A TOML `"""..."""` or `'''...'''` closed on its line: its length and what
/// it reads as (up to two quotes next to the closing three are text).
fn toml_multi_line(line: &str) -> Option<(usize, String)> {
    let quote = line.chars().next()?;
    let fence = &line[..3];
    let body = &line[3..];
    let mut read = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if body[i..].starts_with(fence) {
            let extra = body[i + 3..]
                .chars()
                .take_while(|&c| c == quote)
                .count()
                .min(2);
            read.extend(std::iter::repeat_n(quote, extra));
            return Some((3 + i + 3 + extra, read));
        }
        match c {
            '\\' if quote == '"' => {
                let (_, e) = chars.next()?;
                read.push(escape(e, &mut chars, Format::Toml)?);
            }
            c => read.push(c),
        }
    }
    None
}

/// `'...'` (YAML doubles a quote inside; TOML's literal string cannot hold one).
fn single_quoted(line: &str, format: Format) -> Option<(usize, String)> {
    let mut read = String::new();
    let mut chars = line.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            read.push(c);
        } else if format == Format::Yaml && chars.peek().is_some_and(|(_, n)| *n == '\'') {
            chars.next();
            read.push('\'');
        } else {
            return Some((i + 1, read));
        }
    }
    None
}

/// A plain (YAML) or bare (TOML) scalar's length: up to a comment, the line's
/// end or, inside a flow collection, a `,`, `]` or `}`; whichever reading
/// gives `value` is the one.
fn plain_len(line: &str, value: &str, format: Format) -> Option<usize> {
    if line.starts_with(['|', '>', '&', '*', '!', '%', '@', '`', '[', '{']) {
        return None;
    }
    let comment = line.find(" #").or_else(|| line.find("\t#"));
    let block = &line[..comment.unwrap_or(line.len())];
    let flow = &block[..block.find([',', ']', '}']).unwrap_or(block.len())];
    let candidates = match format {
        Format::Yaml => [block, flow],
        Format::Toml => {
            let bare = &line[..line
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#'))
                .unwrap_or(line.len())];
            [bare, bare]
        }
    };
    candidates
        .into_iter()
        .map(str::trim_end)
        .find(|c| *c == value)
        .map(str::len)
}

/// `text` written as a scalar, in `style` when it can be, else quoted: single
/// quotes when it holds a `"` (a text literal), double otherwise.
pub fn write(text: &str, style: Style, format: Format, in_flow: bool) -> String {
    let control = text.chars().any(char::is_control);
    match style {
        Style::Plain if plain_safe(text, format, in_flow) => text.to_string(),
        Style::Single if !control && (format == Format::Yaml || !text.contains('\'')) => {
            single(text)
        }
        Style::Double => double(text),
        _ if text.contains('"') && !control && !text.contains('\'') => single(text),
        _ => double(text),
    }
}

fn single(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn double(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `text` written plain reads back as the same text: no indicator
/// first, no comment or key separator inside, no flow punctuation in a flow
/// collection, and nothing YAML or TOML would read as another value (`null`
/// is an empty cell, `1e3` a float).
fn plain_safe(text: &str, format: Format, in_flow: bool) -> bool {
    if format == Format::Toml {
        let number = text.strip_prefix('-').unwrap_or(text);
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let decimal = match number.split_once('.') {
            Some((int, frac)) => digits(int) && digits(frac),
            None => digits(number),
        };
        return decimal || text == "true" || text == "false";
    }
    let Some(first) = text.chars().next() else {
        return false;
    };
    let second = text.chars().nth(1);
    let indicator = match first {
        '-' | '?' | ':' => second.is_none_or(|c| c == ' ' || (in_flow && ",[]{}".contains(c))),
        c => ",[]{}#&*!|>'\"%@`".contains(c),
    };
    let special = matches!(text, "null" | "Null" | "NULL" | "~")
        || (text.parse::<f64>().is_ok()
            && !text
                .strip_prefix('-')
                .unwrap_or(text)
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.'));
    !indicator
        && !special
        && text.trim() == text
        && !text.contains(": ")
        && !text.ends_with(':')
        && !text.contains(" #")
        && !(in_flow && text.contains([',', '[', ']', '{', '}']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_style_and_refuses_what_it_cannot_read() {
        let yaml = "a: '>= 5' # c\nb: {x: a+b, y: \"\\\"CA\\\"\"}\nc: |\n  x\n";
        let at = |s: &str| yaml.find(s).unwrap();
        assert_eq!(
            find(yaml, at("'>="), ">= 5", Format::Yaml).map(|w| (w.end - w.start, w.style)),
            Some((6, Style::Single))
        );
        assert_eq!(
            find(yaml, at("a+b"), "a+b", Format::Yaml).map(|w| (w.end - w.start, w.style)),
            Some((3, Style::Plain))
        );
        assert_eq!(
            find(yaml, at("\"\\\""), "\"CA\"", Format::Yaml).map(|w| w.style),
            Some(Style::Double)
        );
        assert_eq!(find(yaml, at("|"), "x\n", Format::Yaml), None);
    }

    #[test]
    fn writes_plain_only_when_it_reads_back_the_same() {
        assert_eq!(write(">= 5", Style::Plain, Format::Yaml, false), "\">= 5\"");
        assert_eq!(write("a + b", Style::Plain, Format::Yaml, true), "a + b");
        assert_eq!(
            write("\"CA\", \"TX\"", Style::Plain, Format::Yaml, false),
            "'\"CA\", \"TX\"'"
        );
        assert_eq!(
            write("max(a, b)", Style::Plain, Format::Yaml, true),
            "\"max(a, b)\""
        );
        assert_eq!(write("null", Style::Plain, Format::Yaml, false), "\"null\"");
        assert_eq!(write("-$5", Style::Plain, Format::Yaml, false), "-$5");
        assert_eq!(write("it's", Style::Single, Format::Yaml, false), "'it''s'");
        assert_eq!(
            write("it's", Style::Single, Format::Toml, false),
            "\"it's\""
        );
        assert_eq!(
            write("a \"b\"", Style::Double, Format::Toml, false),
            "\"a \\\"b\\\"\""
        );
        assert_eq!(
            write("a + 1", Style::Plain, Format::Toml, false),
            "\"a + 1\""
        );
        assert_eq!(write("5", Style::Plain, Format::Toml, false), "5");
    }

    /// Tester 12 item 9: one-line TOML multi-line strings and `\u`/`\x`
    /// escapes are read, so their cells are rewritten rather than kept.
    #[test]
    fn reads_toml_multi_line_strings_on_one_line_and_unicode_escapes() {
        let toml = "a = \"\"\">=5\"\"\"\nb = \"<\\u0031\"\nc = '''x''''\nd = \"\"\"a\"\"\"\"\"\ne = \"\\x31\"\n";
        let at = |s: &str| toml.find(s).unwrap();
        let found = |s: &str, value: &str| find(toml, at(s), value, Format::Toml);
        assert_eq!(
            found("\"\"\">=5", ">=5"),
            Some(Written {
                start: at("\"\"\">=5"),
                end: at("\"\"\">=5") + 9,
                style: Style::Double
            })
        );
        assert_eq!(found("\"<\\u", "<1").map(|w| w.end - w.start), Some(9));
        assert_eq!(found("'''x", "x'").map(|w| w.end - w.start), Some(8));
        assert_eq!(found("\"\"\"a", "a\"\"").map(|w| w.end - w.start), Some(9));
        // TOML 1.0 has no `\x`: refused, never misread.
        assert_eq!(found("\"\\x31", "1"), None);
        let yaml = "a: \"<\\x31\"\nb: \"\\u00e9\\U0001F600\\_\"\nc: \"\\q\"\n";
        let at = |s: &str| yaml.find(s).unwrap();
        assert_eq!(
            find(yaml, at("\"<"), "<1", Format::Yaml).map(|w| w.end - w.start),
            Some(7)
        );
        assert_eq!(
            find(yaml, at("\"\\u00e9"), "é😀\u{a0}", Format::Yaml).map(|w| w.style),
            Some(Style::Double)
        );
        assert_eq!(find(yaml, at("\"\\q"), "q", Format::Yaml), None);
    }
}
