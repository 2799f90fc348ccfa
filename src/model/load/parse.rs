//! One file's text into a Doc type, YAML or TOML, with the options every YAML
//! read uses (node budget, strict booleans); the parsers' errors become
//! diagnostics in the user's words, at the right place, with a fix hint where
//! one is known. It must not pick a document's kind or read a file.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::diagnostic::Diagnostic;
use crate::model::spanned::{reading, Format};
use crate::source::{SourceFile, Span};

pub(crate) fn parse<T: DeserializeOwned>(
    format: Format,
    file: &Arc<SourceFile>,
) -> Result<T, Box<Diagnostic>> {
    reading(format, file, || match format {
        Format::Yaml => {
            serde_saphyr::from_str_with_options::<T>(&file.text, yaml_options(&file.text))
                .map_err(|e| Box::new(yaml_diagnostic(file, &e)))
        }
        Format::Toml => {
            toml::from_str::<T>(&file.text).map_err(|e| Box::new(toml_diagnostic(file, &e)))
        }
    })
}

/// Values (nodes) any YAML file may hold, however short.
pub const MIN_YAML_NODES: usize = 200_000;

/// The options for every YAML arrears reads (rules, accounts, scenarios),
/// for the file `text`.
pub fn yaml_options(text: &str) -> serde_saphyr::Options {
    // Written out, a YAML value takes at least a byte, so a file holds at most
    // one value per byte: more means aliases expand it (an alias bomb), which is
    // refused fast. A 100,000-row table (1.3 million values in 8 MiB) fits.
    let max_nodes = text.len().max(MIN_YAML_NODES);
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: max_nodes,
            // Each value is at most a start and an end event.
            max_events: 2 * max_nodes + 16,
            max_total_scalar_bytes: text.len().max(32 * 1024 * 1024),
        },
        // YAML 1.2 booleans only: `no` (Norway), `off` or `n` stay text.
        strict_booleans: true,
        // `00123` is an id, not 123.
        leading_zero_numbers_as_strings: true,
    }
}

fn yaml_diagnostic(file: &Arc<SourceFile>, err: &serde_saphyr::Error) -> Diagnostic {
    let (message, help) = describe_yaml_error(err);
    let start = err.location().map_or(0, |l| {
        file.offset_of(l.line() as usize, l.column() as usize)
    });
    // Where the analyst must edit, when the parser noticed it later.
    if message.contains("found a tab") || message.contains("tabs disallowed") {
        if let Some(at) = tab_indent(&file.text, start) {
            return Diagnostic::error(
                "yaml",
                file,
                Span::new(at, at + 1),
                "a tab in this line's indentation",
            )
            .with_help("indent YAML with spaces, not tabs");
        }
    }
    if let Some((open, close)) = unclosed_quote(&file.text, start) {
        let (close_line, _) = file.line_col(close);
        let quote = &file.text[open..open + 1];
        return Diagnostic::error(
            "yaml",
            file,
            Span::new(open, open + 1),
            "unclosed quote: this value's quote is not closed on its line",
        )
        .with_help(format!(
            "end the value with `{quote}` on this line; YAML reads on to the next `{quote}` (line {close_line}) and fails there"
        ));
    }
    if message.contains("did not find expected") {
        if let Some(at) = dedented_line(&file.text, start) {
            return Diagnostic::error("yaml", file, Span::new(at, at + 1), message).with_help(
                "this line is indented less than the lines around it: indent it like the line above",
            );
        }
    }
    if let Some((at, help)) = misindented_key(&file.text, start, &message) {
        return Diagnostic::error("yaml", file, Span::new(at, at + 1), message).with_help(help);
    }
    if let Some(d) = not_a_whole_number(file, start, &message) {
        return d;
    }
    let span = Span::new(start, (start + 1).min(file.text.len().max(start)));
    // An unknown key no key here is close to, dedented out of the mapping
    // above it: said so.
    let help = match unknown_field(&message) {
        Some((name, keys)) if crate::diagnostic::nearest(name, keys.iter().copied()).is_none() => {
            dedented_key(&file.text, start, name).or(help)
        }
        _ => help,
    };
    // A value where a nested mapping belongs (`effective: 2026-12-31`): the
    // key names what is wanted, not the document's first line.
    let help = match message.starts_with("expected a mapping") {
        true => mapping_help(&file.text, start).or(help),
        false => help,
    };
    Diagnostic::error("yaml", file, span, message).with_help_opt(help)
}

/// A word where a whole number belongs (`day: ten`): serde-saphyr says
/// only `invalid i64`; this names the value and the key that wants a number.
fn not_a_whole_number(file: &Arc<SourceFile>, start: usize, message: &str) -> Option<Diagnostic> {
    const INTEGERS: [&str; 10] = [
        "i8", "i16", "i32", "i64", "i128", "u8", "u16", "u32", "u64", "u128",
    ];
    let ty = message.strip_prefix("invalid ")?;
    if !INTEGERS.contains(&ty) {
        return None;
    }
    let text = file.text.get(start..)?;
    let line = text.split('\n').next().unwrap_or("");
    let value = line.split(" #").next().unwrap_or("").trim_end();
    let value = value.trim_end_matches([',', '}', ']']).trim_end();
    let line_start = file.text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = &file.text[line_start..start];
    let key = before
        .trim_end()
        .strip_suffix(':')
        .map(|k| k.rsplit(['{', ',', ' ', '-']).next().unwrap_or(k).trim());
    let help = match key.filter(|k| !k.is_empty()) {
        Some(k) => format!("`{k}` takes a whole number, such as `10`"),
        None => "write a whole number, such as `10`".to_string(),
    };
    let end = (start + value.len()).max(start + 1).min(file.text.len());
    Some(
        Diagnostic::error(
            "yaml",
            file,
            Span::new(start, end),
            format!("`{value}` is not a whole number"),
        )
        .with_help(help),
    )
}

/// The first tab in a line's indentation at or after the line before the
/// error's (YAML reports a tab at the end of the value before it, or at the
/// next token), and not past the next line that has none.
fn tab_indent(text: &str, error_at: usize) -> Option<usize> {
    let line_start = text.get(..error_at)?.rfind('\n').map_or(0, |i| i + 1);
    let from = text[..line_start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let mut at = from;
    for line in text[from..].split_inclusive('\n').take(3) {
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        if let Some(tab) = indent.find('\t') {
            return Some(at + tab);
        }
        at += line.len();
    }
    None
}

/// A quoted value opened on an earlier line than the error's, whose closing
/// quote is the one just before the error on the error's line (or none):
/// YAML quoted values may span lines, so a missing closing quote is reported
/// at the next quote, lines later. Returns the opening and closing quote.
fn unclosed_quote(text: &str, error_at: usize) -> Option<(usize, usize)> {
    let error_line = text.get(..error_at)?.matches('\n').count();
    // Scan from the start: comments and plain values hold quotes that open nothing.
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut last = None;
    while i < error_at {
        match bytes[i] {
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                i = text[i..].find('\n').map_or(text.len(), |n| i + n);
            }
            q @ (b'"' | b'\'') if opens_value(text, i) => {
                let open = i;
                i += 1;
                while i < text.len() {
                    match bytes[i] {
                        b'\\' if q == b'"' => i += 1,
                        b'\'' if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                        c if c == q => break,
                        _ => {}
                    }
                    i += 1;
                }
                last = Some((open, i));
            }
            _ => {}
        }
        i += 1;
    }
    let (open, close) = last?;
    let open_line = text[..open].matches('\n').count();
    let close_line = text[..close.min(text.len())].matches('\n').count();
    (open_line < error_line && close_line == error_line).then_some((open, close))
}

/// Whether a quote at `at` starts a value: first on its line (after the
/// indentation and any `- `), or after `: `, `[`, `{` or `,`.
fn opens_value(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches([' ', '\t']);
    before.is_empty()
        || before.ends_with(['\n', ':', '[', '{', ','])
        || (before.ends_with('-') && {
            let line = before.rfind('\n').map_or(before, |n| &before[n + 1..]);
            line.trim() == "-"
        })
}

/// The key of a `key: value` line whose value starts at `at`.
fn key_before(text: &str, at: usize) -> Option<&str> {
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let key = text[line_start..at].trim().strip_suffix(':')?;
    let key = key.trim_start_matches("- ").trim();
    (!key.is_empty() && !key.contains([' ', '{', '[', ','])).then_some(key)
}

/// A `key:` line indented wrong against the line above, found from the
/// parser's complaint at it: indented like the `- ` of a list item (neither in
/// that item nor a new one), short of the keys above it and past the level
/// around them (one space short: in no mapping), or further than a `key:
/// value` line above, which makes it read as the rest of that value. Where the key starts, and what to do.
fn misindented_key(text: &str, at: usize, message: &str) -> Option<(usize, String)> {
    let content = |line: &&str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let indent = |line: &str| line.len() - line.trim_start().len();
    let key_of = |line: &str| {
        let (key, value) = line.trim_start().trim_start_matches("- ").split_once(':')?;
        let valid = !key.is_empty() && !key.contains([' ', '{', '[', ',', '"', '\'']);
        valid.then(|| (key.to_string(), value.trim().to_string()))
    };
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let (key, _) = key_of(line)?;
    let own = indent(line);
    let key_at = line_start + own;
    if message.contains("did not find expected key") || message.contains("expected '-'") {
        if let Some(help) = between_levels(text, line_start, &key, own) {
            return Some((key_at, help));
        }
    }
    let above = text[..line_start].lines().rfind(content)?;
    let (above_key, above_value) = key_of(above)?;
    if message.contains("expected '-'")
        && above.trim_start().starts_with("- ")
        && indent(above) == own
    {
        return Some((
            key_at,
            format!(
                "`{key}` is indented like the `- ` of the item above, so it is in no item; indent it like `{above_key}` to put it in that item, or start a new item with `- `"
            ),
        ));
    }
    let above_own = indent(above)
        + if above.trim_start().starts_with("- ") {
            2
        } else {
            0
        };
    let scalar = !above_value.is_empty() && !above_value.starts_with(['{', '[', '#', '|', '>']);
    if message.contains("mapping values are not allowed") && scalar && own > above_own {
        return Some((
            key_at,
            format!(
                "`{key}` is indented further than `{above_key}` above it, so it reads as more of `{above_key}`'s value; indent `{key}` like `{above_key}`"
            ),
        ));
    }
    None
}

/// An unknown `key` at `at` indented less than the key on the content line
/// above it: it may be a key of that deeper mapping, dedented into this one
/// (a field of a case's account written at the case's own indentation).
fn dedented_key(text: &str, at: usize, key: &str) -> Option<String> {
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let column = |line: &str| {
        let trimmed = line.trim_start();
        let dash = line.len() - trimmed.len();
        match trimmed.strip_prefix("- ") {
            Some(rest) => dash + 2 + (rest.len() - rest.trim_start().len()),
            None => dash,
        }
    };
    let own = column(text[line_start..].lines().next()?);
    if at != line_start + own {
        return None;
    }
    let above = text[..line_start]
        .lines()
        .rfind(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))?;
    let (above_key, _) = above
        .trim_start()
        .trim_start_matches("- ")
        .split_once(':')?;
    let valid = !above_key.is_empty() && !above_key.contains([' ', '{', '[', ',', '"', '\'']);
    let deeper = column(above);
    (valid && deeper > own).then(|| {
        format!(
            "`{key}` is indented {own} spaces, less than `{above_key}` above it ({deeper}), so it is read as a key here, where there is none of that name; if it belongs beside `{above_key}`, indent it like `{above_key}`"
        )
    })
}

/// What to do about a `key` line indented `own` spaces, between the levels
/// of the lines that enclose it (each indented less than the one after, up to
/// the first indented less than it): a space or two short of the keys above
/// it, or past the key of the mapping around them. `None` when a level is at
/// `own` (the mistake is another), or the nearest level is a `- `.
fn between_levels(text: &str, line_start: usize, key: &str, own: usize) -> Option<String> {
    // (column, the key there; `None` for a `- `)
    let mut levels: Vec<(usize, Option<String>)> = Vec::new();
    let mut deepest = usize::MAX;
    for line in text[..line_start].lines().rev() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let dash = line.len() - trimmed.len();
        if dash >= deepest {
            continue;
        }
        deepest = dash;
        let first = levels.is_empty();
        let key_of = |rest: &str| {
            let key = rest.split_once(':')?.0;
            let valid = !key.is_empty() && !key.contains([' ', '{', '[', ',', '"', '\'']);
            valid.then(|| key.to_string())
        };
        match trimmed.strip_prefix("- ") {
            Some(rest) => {
                levels.push((dash, None));
                levels.push((
                    dash + 2 + (rest.len() - rest.trim_start().len()),
                    key_of(rest.trim_start()),
                ));
            }
            None => levels.push((dash, key_of(trimmed))),
        }
        if dash < own {
            // The first key of the block this line opens is at a level of its own.
            let opens = trimmed.trim_end().ends_with(':');
            if opens && first {
                return None;
            }
            break;
        }
    }
    if levels.iter().any(|(column, _)| *column == own) {
        return None;
    }
    let upper = levels
        .iter()
        .filter(|(c, _)| *c > own)
        .min_by_key(|(c, _)| *c);
    let lower = levels
        .iter()
        .filter(|(c, _)| *c < own)
        .max_by_key(|(c, _)| *c);
    let count = |n: usize| match n {
        1 => "one".to_string(),
        n => n.to_string(),
    };
    let indented = match own {
        1 => "1 space".to_string(),
        n => format!("{n} spaces"),
    };
    // The nearer level is meant; of two as near, a key's rather than a `- `'s.
    // Of two keys as near, the one whose mapping can take the key: not one
    // that has it already, nor a mapping of days (`on:`) for a key that is
    // no date, or one of words for a date; when both can (or neither), both
    // are said.
    if let (Some((up, Some(inner))), Some((low, Some(outer)))) = (upper, lower) {
        if up - own == own - low {
            let cannot = |column: usize, beside: &str| {
                let keys = keys_of_block(text, line_start, column);
                if keys.iter().any(|k| k == key) {
                    Some(format!("the mapping of `{beside}` has a `{key}` already"))
                } else if keys.iter().all(|k| is_date(k)) != is_date(key) {
                    Some(match is_date(key) {
                        true => {
                            format!("`{key}` is a date, and the keys beside `{beside}` are not")
                        }
                        false => {
                            format!("the keys beside `{beside}` are dates, and `{key}` is not one")
                        }
                    })
                } else {
                    None
                }
            };
            match (cannot(*up, inner), cannot(*low, outer)) {
                (Some(why), None) => {
                    return Some(format!(
                        "`{key}` is indented {indented}, {} more than `{outer}` ({low}), so it belongs to no mapping ({why}); indent `{key}` like `{outer}` to put it beside it",
                        count(own - low)
                    ));
                }
                (None, Some(why)) => {
                    return Some(format!(
                        "`{key}` is indented {indented}, {} fewer than `{inner}` above it ({up}), so it belongs to no mapping ({why}); indent `{key}` like `{inner}` to put it beside it",
                        count(up - own)
                    ));
                }
                _ => {
                    return Some(format!(
                        "`{key}` is indented {indented}, {n} fewer than `{inner}` above it ({up}) and {n} more than `{outer}` ({low}), so it belongs to no mapping; indent `{key}` like `{outer}` to put it beside `{outer}`, or like `{inner}` to put it beside `{inner}`",
                        n = count(up - own)
                    ));
                }
            }
        }
    }
    match (upper, lower) {
        (Some((up, Some(sibling))), low) if low.is_none_or(|(low, _)| up - own <= own - low) => {
            Some(format!(
                "`{key}` is indented {indented}, {} fewer than `{sibling}` above it ({up}), so it belongs to no mapping; indent `{key}` like `{sibling}` to put it beside it",
                count(up - own)
            ))
        }
        (up, Some((low, Some(outer))))
            if up.is_none_or(|(up, k)| own - low < up - own || (k.is_none() && own - low == up - own)) =>
        {
            Some(format!(
                "`{key}` is indented {indented}, {} more than `{outer}` ({low}), so it belongs to no mapping; indent `{key}` like `{outer}` to put it beside it",
                count(own - low)
            ))
        }
        _ => None,
    }
}

/// A key written as a day, `2026-11-24` (a timeline case's `on:` days).
fn is_date(key: &str) -> bool {
    let key = key.trim_matches(['"', '\'']);
    key.len() == 10
        && key.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The keys at `column` of the block the line at `line_start` is in: the
/// lines above and below it up to one indented less (or a list item's `- `
/// whose key is at `column`, which starts the block).
fn keys_of_block(text: &str, line_start: usize, column: usize) -> Vec<String> {
    // (where the line's key starts, whether a `- ` starts it, the key)
    let read = |line: &str| {
        let trimmed = line.trim_start();
        let dash = line.len() - trimmed.len();
        let (at, item, rest) = match trimmed.strip_prefix("- ") {
            Some(rest) => (
                dash + 2 + (rest.len() - rest.trim_start().len()),
                true,
                rest.trim_start(),
            ),
            None => (dash, false, trimmed),
        };
        let key = rest.split_once(':').map(|(k, _)| k.trim().to_string());
        (dash, at, item, key)
    };
    let content = |line: &&str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let mut keys = Vec::new();
    for line in text[..line_start].lines().rev().filter(content) {
        let (dash, at, item, key) = read(line);
        if at == column {
            keys.extend(key);
        }
        if dash < column {
            break;
        }
        if item && at == column {
            break;
        }
    }
    let after = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    for line in text[after..].lines().filter(content) {
        let (dash, at, item, key) = read(line);
        if dash < column || (item && at == column) {
            break;
        }
        if at == column {
            keys.extend(key);
        }
    }
    keys
}

/// What to do about a value where a mapping belongs, said by its key: an
/// empty one with nothing indented under it (`2026-11-24:` and its lines
/// written at its own indentation), a key read as an entry of the mapping
/// above because it is not indented under its sibling (`excludes:` under
/// `on:` beside a day), or a single value (`effective: 2026-12-31`). The
/// error is reported at the value, or at the colon of an empty one.
fn mapping_help(text: &str, at: usize) -> Option<String> {
    let content = |line: &&str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let indent = |line: &str| line.len() - line.trim_start().len();
    let key_of = |line: &str| -> Option<(String, String)> {
        let (key, value) = line.trim_start().trim_start_matches("- ").split_once(':')?;
        let key = key.trim().trim_matches(['"', '\'']);
        let valid = !key.is_empty() && !key.contains([' ', '{', '[', ',']);
        valid.then(|| (key.to_string(), value.trim().to_string()))
    };
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = &text[line_start..line_end];
    // The error is at the key's value (or its colon), not at the line's start.
    if line.find(':').is_none_or(|colon| line_start + colon > at) {
        return None;
    }
    let (key, value) = key_of(line)?;
    let own = indent(line);
    let empty = matches!(value.as_str(), "" | "~" | "null") || value.starts_with('#');
    let next = text[line_end..].lines().find(content);
    if empty && next.is_none_or(|n| indent(n) <= own) {
        return Some(format!(
            "nothing is indented under `{key}:`, so its value is empty; indent the lines that belong to it further than `{key}`"
        ));
    }
    // The key's mapping (the first line above indented less) and the sibling
    // just above it, when that one opens a mapping of its own.
    let above: Vec<&str> = text[..line_start].lines().filter(content).collect();
    let sibling = above
        .iter()
        .rev()
        .take_while(|l| indent(l) >= own)
        .filter(|l| indent(l) == own)
        .find_map(|l| key_of(l).filter(|(_, v)| v.is_empty()).map(|(k, _)| k));
    let parent_line = above.iter().rev().find(|l| indent(l) < own);
    let parent = parent_line.and_then(|l| key_of(l)).map(|(k, _)| k);
    // Beside the parent, unless its mapping has the key already.
    let beside_parent = parent_line.is_some_and(|l| {
        let start = l.as_ptr() as usize - text.as_ptr() as usize;
        let column = indent(l)
            + if l.trim_start().starts_with("- ") {
                2
            } else {
                0
            };
        parent.as_deref() != Some(key.as_str())
            && !keys_of_block(text, start, column).contains(&key)
    });
    Some(match (parent, sibling) {
        (Some(parent), Some(sibling)) if beside_parent => format!(
            "`{key}` is read as an entry of `{parent}` (as `{sibling}` is), and each entry there takes `key: value` pairs; if `{key}` belongs to `{sibling}`, indent it further than `{sibling}`; if it belongs beside `{parent}`, indent it like `{parent}`"
        ),
        (Some(parent), Some(sibling)) => format!(
            "`{key}` is read as an entry of `{parent}` (as `{sibling}` is), and each entry there takes `key: value` pairs; if `{key}` belongs to `{sibling}`, indent it further than `{sibling}`"
        ),
        _ => format!(
            "`{key}` takes `key: value` pairs (`{key}: {{ ... }}` or indented lines below it), not a single value"
        ),
    })
}

/// YAML notices a dedented `key: value` line only at the next line, which is
/// then indented more than it: where that dedented line starts, when the line
/// before it is indented like the line the error is on.
fn dedented_line(text: &str, error_at: usize) -> Option<usize> {
    let content = |line: &str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let indent = |line: &str| line.len() - line.trim_start().len();
    let line_start = text.get(..error_at)?.rfind('\n').map_or(0, |i| i + 1);
    let mut starts = text[..line_start]
        .split_inclusive('\n')
        .scan(0, |at, line| {
            let start = *at;
            *at += line.len();
            Some((start, line))
        })
        .filter(|(_, line)| content(line))
        .collect::<Vec<_>>()
        .into_iter()
        .rev();
    let error_line = text[line_start..].lines().next().unwrap_or("");
    let (p_start, p) = starts.next()?;
    let (_, q) = starts.next()?;
    let opens_block = p.trim_end().ends_with([':', '|', '>', '-', '+']);
    (indent(p) < indent(error_line) && indent(q) == indent(error_line) && !opens_block)
        .then(|| p_start + indent(p))
}

/// A YAML error in the user's words: serde-saphyr's message without its
/// location (shown separately) or library advice, and a fix hint where one is known.
/// Shared by rule files and accounts files.
pub fn describe_yaml_error(err: &serde_saphyr::Error) -> (String, Option<String>) {
    let text = err.without_snippet().to_string();
    // The message ends with "at line L, column C"; the location is shown separately.
    let raw = match text.find(" at line ") {
        Some(i) => &text[..i],
        None => text.as_str(),
    };
    // Library advice ("set DuplicateKeyPolicy in Options ...") means nothing to a rule author.
    let raw = raw.split(", set ").next().unwrap_or(raw).trim();
    let (message, help): (String, Option<&str>) = if let Some(rest) =
        text.strip_prefix("budget breached: ")
    {
        if rest.starts_with("Depth") {
            (
                "YAML nesting is too deep".into(),
                Some("rule and account files are only a few levels deep; flatten the nested lists or mappings"),
            )
        } else {
            (
                "YAML budget exceeded: the file expands to more values than it has bytes".into(),
                Some("the file expands to too many values (an alias bomb?); remove the repeated aliases"),
            )
        }
    } else if raw.contains("recursion limit exceeded") {
        (
            "YAML nesting is too deep".into(),
            Some("rule and account files are only a few levels deep; flatten the nested lists or mappings"),
        )
    } else if raw.contains("block scalar") {
        (
            raw.into(),
            Some("in YAML a cell that starts with `>` or `|` must be quoted: \">= 5\""),
        )
    } else if raw.starts_with("duplicate mapping key") {
        (
            raw.into(),
            Some("each key may appear once in a mapping; remove or rename the repeated one"),
        )
    } else if raw.starts_with("unknown field") {
        (
            raw.into(),
            Some("check the spelling; see docs/rule-files.md for the keys each document takes"),
        )
    } else if raw.contains("multiple YAML documents") {
        (
            "the file holds more than one YAML document (a second one starts after `---`)".into(),
            Some("put each document in a file of its own"),
        )
    } else if raw.contains("found a tab") || raw.contains("tabs disallowed") {
        (raw.into(), Some("indent YAML with spaces, not tabs"))
    } else if raw == "expected sequence start" {
        (
            "expected a list here".into(),
            Some("write the items one per line, each starting with `- `"),
        )
    } else if raw == "expected mapping start" {
        (
            "expected a mapping (`key: value` lines) here".into(),
            Some("a rule file starts with the key naming its document, e.g. `table: entry`"),
        )
    } else if raw.starts_with("expected string scalar") {
        (
            "expected a single value here, not a list or a mapping".into(),
            Some("write one value, e.g. `hit: first`"),
        )
    } else if raw.contains("unclosed quote") {
        (
            raw.into(),
            Some("end the quoted value with the same quote it starts with"),
        )
    } else if raw.starts_with("unexpected character") {
        (
            raw.into(),
            Some("remove the control character; YAML files are plain text"),
        )
    } else if raw.starts_with("non-finite float") {
        (
            "number is too large (it overflows to infinity)".into(),
            Some("numbers have at most 28 significant digits; quote exact amounts, e.g. \"12.50\""),
        )
    } else {
        (raw.into(), None)
    };
    let help = match unknown_field(raw) {
        Some((name, keys)) => crate::diagnostic::did_you_mean(name, keys),
        None => None,
    }
    .or(help.map(str::to_string));
    (lowercase_first(&message), help)
}

fn toml_diagnostic(file: &Arc<SourceFile>, err: &toml::de::Error) -> Diagnostic {
    let span = err.span().map_or(Span::new(0, 1), |r| {
        Span::new(r.start, r.end.max(r.start + 1))
    });
    let message = err.message().trim().to_string();
    // A string not closed on its line: TOML may notice only on a later line,
    // and the fix is a quote, not quoting.
    let line_end = file
        .text
        .get(span.start..)
        .and_then(|rest| rest.find('\n'))
        .map_or(file.text.len(), |n| span.start + n);
    if let Some(open) = unterminated_string(&file.text[..line_end]) {
        let quote = &file.text[open..open + 1];
        return Diagnostic::error(
            "toml",
            file,
            Span::new(open, open + 1),
            "unclosed string: this quote is not closed on its line",
        )
        .with_help(format!(
            "end the value with `{quote}` where it ends, on this line: a TOML string cannot span lines (`dpd = \">= 5\"`; use `\"\"\"` for a long expression)"
        ));
    }
    if let Some(d) = unclosed_inline_table(file, span, &message)
        .or_else(|| single_table_header(file, span, &message))
    {
        return d;
    }
    let unquoted = message.contains("expected newline")
        || message.contains("invalid string")
        || message.contains("invalid basic string")
        || message.contains("must be quoted")
        || message.contains("extra assignment")
        || message.contains("expected `,`")
        || message.contains("invalid unquoted key");
    let (span, help) = if unquoted {
        (
            unquoted_value(file, span).unwrap_or(span),
            Some("in TOML every cell is a quoted string: dpd = \">= 5\"".to_string()),
        )
    } else if message.contains("duplicate key") {
        (
            span,
            Some(
                "each key may appear once in a table; remove or rename the repeated one"
                    .to_string(),
            ),
        )
    } else if message.contains("max recursion depth") {
        (
            span,
            Some(
                "rule files are only a few levels deep; flatten the nested arrays or tables"
                    .to_string(),
            ),
        )
    } else if message.starts_with("invalid type") {
        (span, Some(
            "check the value's type: see docs/rule-files.md for what each key takes (`rows` is an array of tables `[[rows]]`, `inputs` and `outputs` are tables)"
                .to_string(),
        ))
    } else if let Some((name, keys)) = unknown_field(&message) {
        (
            span,
            Some(
                crate::diagnostic::did_you_mean(name, keys).unwrap_or_else(|| {
                    "check the spelling; see docs/rule-files.md for the keys each document takes"
                        .to_string()
                }),
            ),
        )
    } else {
        (span, None)
    };
    let message = if message.contains("max recursion depth") {
        "TOML nesting is too deep".to_string()
    } else {
        message
    };
    Diagnostic::error("toml", file, span, lowercase_first(&message)).with_help_opt(help)
}

/// The opening quote of the first one-line string (`"..."`, `'...'`) in
/// `text` that its line does not close; comments and multi-line strings
/// (`"""`, `'''`) skipped.
fn unterminated_string(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => i = text[i..].find('\n').map_or(bytes.len(), |n| i + n),
            q @ (b'"' | b'\'') => {
                let triple = [q, q, q];
                if bytes[i..].starts_with(&triple) {
                    // A multi-line string: to its closing triple, or the end.
                    let close = text[i + 3..].find(std::str::from_utf8(&triple).ok()?);
                    i = close.map_or(bytes.len(), |n| i + 3 + n + 2);
                } else {
                    let open = i;
                    i += 1;
                    loop {
                        match bytes.get(i) {
                            None | Some(b'\n') => return Some(open),
                            Some(b'\\') if q == b'"' => i += 1,
                            Some(&c) if c == q => break,
                            _ => {}
                        }
                        i += 1;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where the value that should have been quoted starts: after the last
/// assignment `key = ` on the error's line, when that value is not quoted.
fn unquoted_value(file: &SourceFile, span: Span) -> Option<Span> {
    let line_start = file.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let before = &file.text[line_start..span.start];
    let assign = before.match_indices(" =").last()?.0 + 2;
    let value = &before[assign..];
    let start = line_start + assign + (value.len() - value.trim_start().len());
    let first = file.text[start..].chars().next()?;
    (!matches!(first, '"' | '\'' | '{' | '[')).then(|| Span::new(start, span.end.max(start + 1)))
}

/// A line that starts where TOML wanted a `,` or `}`: the inline table on the
/// line before was not closed (inline tables cannot span lines).
fn unclosed_inline_table(file: &Arc<SourceFile>, span: Span, message: &str) -> Option<Diagnostic> {
    if !(message.contains("expected `,`") || message.contains("expected `}`")) {
        return None;
    }
    let before = file.text.get(..span.start)?;
    let line_start = before.rfind('\n')?;
    if !before[line_start..].trim().is_empty() {
        return None;
    }
    let previous = before[..line_start].trim_end();
    let previous_start = previous.rfind('\n').map_or(0, |i| i + 1);
    let line = &previous[previous_start..];
    if line.matches('{').count() <= line.matches('}').count() {
        return None;
    }
    let end = previous.len();
    Some(
        Diagnostic::error(
            "toml",
            file,
            Span::new(end, end + 1),
            "this line's inline table `{ ... }` is not closed: missing `}`",
        )
        .with_help("close the inline table with `}` on the same line: a TOML inline table cannot span lines"),
    )
}

/// `[rows]` where `[[rows]]` was meant: the next `[[rows]]` is then a duplicate
/// key, reported by TOML there; the mistake is the single-bracket header.
fn single_table_header(file: &Arc<SourceFile>, span: Span, message: &str) -> Option<Diagnostic> {
    if !message.contains("duplicate key") {
        return None;
    }
    let key = file.text.get(span.start..span.end)?.trim();
    let header = format!("[{key}]");
    let mut offset = 0;
    for line in file.text[..span.start].split_inclusive('\n') {
        if line.trim() == header {
            let start = offset + (line.len() - line.trim_start().len());
            return Some(
                Diagnostic::error(
                    "toml",
                    file,
                    Span::new(start, start + header.len()),
                    format!("`{header}` declares one table, but `[[{key}]]` follows"),
                )
                .with_help(format!("each entry of `{key}` starts with `[[{key}]]`")),
            );
        }
        offset += line.len();
    }
    None
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if !s.starts_with("TOML") && !s.starts_with("YAML") => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => s.to_string(),
    }
}

/// Why a file holds no document of any kind (a rule file, a test document,
/// a timeline are mappings): it is empty, holds only comments, or is a list,
/// as an accounts file is; with where to point. `None` for anything else,
/// a file that does not parse included (its parser says why).
pub fn not_a_document(format: Format, file: &Arc<SourceFile>) -> Option<(&'static str, Span)> {
    let text = &file.text;
    if text.trim().is_empty() {
        return Some(("is empty", Span::default()));
    }
    // The first line that is not blank, a comment or a `---` document start.
    let mut offset = 0;
    let mut content = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !(trimmed.is_empty() || trimmed.starts_with('#') || trimmed == "---") {
            content = Some(offset + (line.len() - line.trim_start().len()));
            break;
        }
        offset += line.len();
    }
    let Some(start) = content else {
        return Some(("holds only comments", Span::default()));
    };
    let is_list =
        format == Format::Yaml && parse::<Vec<serde::de::IgnoredAny>>(format, file).is_ok();
    is_list.then(|| {
        (
            "is a list (as an accounts file is), not a mapping",
            Span::new(start, start + 1),
        )
    })
}

/// A document that is not a rule file (a test document, a timeline): read
/// whole within the rule-file limit, parsed as its extension says (YAML
/// otherwise), an unknown key reported with the keys there are and a `did you
/// mean`, else `docs` (where the keys are listed); an empty file or a list
/// (an accounts file) is said to be one, and `starts` what the document
/// starts with (`a timeline starts with ...`). Problems carry `code`.
pub fn read_document<T: DeserializeOwned>(
    path: &std::path::Path,
    code: &'static str,
    docs: &str,
    starts: &str,
) -> Result<(Arc<SourceFile>, T), Diagnostic> {
    let file = read_text(path, code)?;
    let doc = parse_document(path, &file, code, docs, starts)?;
    Ok((file, doc))
}

/// A document's text, read whole within the rule-file limit and UTF-8, or
/// the problem (with `code`).
pub fn read_text(
    path: &std::path::Path,
    code: &'static str,
) -> Result<Arc<SourceFile>, Diagnostic> {
    let name = path.display().to_string();
    let unreadable = |message: String| {
        let file = SourceFile::new(name.clone(), "");
        Diagnostic::error(code, &file, Span::default(), message)
    };
    let bytes = crate::input::read_regular(path, super::MAX_RULE_FILE_BYTES)
        .map_err(|e| unreadable(e.to_string()))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(err) => {
            let (file, span) = super::not_utf8(name, &err);
            Err(Diagnostic::error(
                code,
                &file,
                span,
                "not valid UTF-8; save the file as UTF-8",
            ))
        }
    }
}

/// `file` (read from `path`) parsed as its extension says, YAML otherwise,
/// as [`read_document`] does.
pub fn parse_document<T: DeserializeOwned>(
    path: &std::path::Path,
    file: &Arc<SourceFile>,
    code: &'static str,
    docs: &str,
    starts: &str,
) -> Result<T, Diagnostic> {
    let format = super::format_of(path).unwrap_or(Format::Yaml);
    if let Some((why, span)) = not_a_document(format, file) {
        return Err(Diagnostic::error(
            code,
            file,
            span,
            format!("the file {why}; {starts}"),
        ));
    }
    parse(format, file).map_err(|d| date_not_a_list(unknown_key(*d, code, docs)))
}

/// In a timeline or a test document every scalar read as cell text is a date
/// (`from`, `to`, `on`, `as_of`, `callback`): a list there is a date written
/// in brackets, or a `[` left open that swallowed the lines after it.
fn date_not_a_list(d: Diagnostic) -> Diagnostic {
    if d.message != crate::model::spanned::CELL_NOT_A_LIST {
        return d;
    }
    let text = &d.file.text;
    let key = key_before(text, d.span.start).map_or_else(String::new, |k| format!("`{k}` "));
    let open = text
        .get(d.span.start..)
        .is_some_and(|rest| rest.starts_with('['));
    let closed = text
        .get(d.span.start..)
        .and_then(|rest| rest.lines().next())
        .is_some_and(|line| line.contains(']'));
    let why = if open && !closed {
        "a `[` starts a YAML flow list, and this one is not closed on its line, so the lines after it are read into it"
    } else {
        "`[...]` is a YAML list"
    };
    Diagnostic {
        message: format!(
            "{key}takes a date (YYYY-MM-DD), not a list: {why}; write the date alone, e.g. `2026-11-30`"
        ),
        ..d
    }
}

/// The key and the keys there are of serde's `unknown field `x`, expected one of ...`.
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let (name, expected) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))?;
    let keys = expected
        .split([',', ' '])
        .map(|k| k.trim_matches('`'))
        .filter(|k| !k.is_empty() && !matches!(*k, "expected" | "one" | "of" | "or"))
        .collect();
    Some((name, keys))
}

/// serde's `unknown field `x`, expected one of ...` as an unknown key with a `did you mean`.
fn unknown_key(d: Diagnostic, code: &'static str, docs: &str) -> Diagnostic {
    let Some((name, keys)) = unknown_field(&d.message) else {
        return d;
    };
    Diagnostic {
        label: d.label.clone(),
        ..unknown_key_at(&d.file, d.span, code, name, &keys, docs)
    }
}

/// An unknown key `name` at `span`, with the keys there are and a `did you
/// mean`, else `docs` (where the keys are listed).
pub fn unknown_key_at(
    file: &Arc<SourceFile>,
    span: Span,
    code: &'static str,
    name: &str,
    keys: &[&str],
    docs: &str,
) -> Diagnostic {
    let help = crate::diagnostic::did_you_mean(name, keys.iter().copied())
        .or_else(|| dedented_key(&file.text, span.start, name))
        .unwrap_or_else(|| docs.to_string());
    Diagnostic::error(
        code,
        file,
        span,
        format!("unknown key `{name}` (the keys here: {})", keys.join(", ")),
    )
    .with_help(help)
}

/// A date written in a document (`as_of`, `from`, `on`): `YYYY-MM-DD`, or a
/// problem with `code` at the cell.
pub fn date_cell(
    code: &'static str,
    file: &Arc<SourceFile>,
    cell: &crate::model::spanned::Spanned<crate::model::spanned::CellText>,
    problems: &mut Vec<Diagnostic>,
) -> Option<chrono::NaiveDate> {
    let date = chrono::NaiveDate::parse_from_str(cell.value.0.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        let why = date_mistake(&cell.value.0).map_or_else(String::new, |why| format!(": {why}"));
        problems.push(Diagnostic::error(
            code,
            file,
            cell.span,
            format!("`{}` is not a date (YYYY-MM-DD){why}", cell.value.0),
        ));
    }
    date
}

/// What is wrong with `text` as a `YYYY-MM-DD` date when it is written like
/// one but is no day of the calendar (`2026-13-01`: there is no month 13;
/// `2026-02-30`), or is a date in another order (`22/11/2026`); `None` when it
/// is a date, or nothing like one.
pub fn date_mistake(text: &str) -> Option<String> {
    let text = text.trim();
    let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
    let numbers: Option<Vec<u32>> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.len() <= 4)
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect();
    let [a, b, c] = numbers?[..] else {
        return None;
    };
    if parts[0].len() != 4 {
        // `22/11/2026` or `11/22/2026`: which is the month is not ours to guess.
        return (parts[2].len() == 4).then(|| {
            format!("write the year first, `{c}-MM-DD` (`2026-11-22` is 22 November 2026)")
        });
    }
    if !text.contains('-') || text.contains(['/', '.']) {
        return Some(format!("write it with dashes, `{a}-{b:02}-{c:02}`"));
    }
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(a as i32, b, d);
    match b {
        0 | 13.. => Some(format!("there is no month {b}")),
        _ if day(c).is_none() => {
            let last = (28..=31).rev().find(|d| day(*d).is_some()).unwrap_or(28);
            Some(format!("{a}-{b:02} has days 1 to {last}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_written_like_one_says_what_is_wrong() {
        for (text, why) in [
            ("2026-13-01", Some("there is no month 13")),
            ("2026-00-10", Some("there is no month 0")),
            ("2026-02-30", Some("2026-02 has days 1 to 28")),
            ("2028-02-30", Some("2028-02 has days 1 to 29")),
            ("2026-09-31", Some("2026-09 has days 1 to 30")),
            ("2026/11/05", Some("write it with dashes, `2026-11-05`")),
            (
                "22/11/2026",
                Some("write the year first, `2026-MM-DD` (`2026-11-22` is 22 November 2026)"),
            ),
            ("2026-11-22", None),
            ("next week", None),
            ("", None),
        ] {
            assert_eq!(date_mistake(text).as_deref(), why, "{text}");
        }
    }

    #[test]
    fn a_closed_toml_string_is_not_unterminated() {
        let ok = "a = \"x # y\" # it's a comment\nb = 'it''s'\nc = \"q\\\"\"\nd = \"\"\"two\nlines \"\"\"\ne = '''x\n'''\n";
        assert_eq!(unterminated_string(ok), None);
        let open = "a = \"x\"\nb = { dpd = \">= 5 }\nc = \"y\"\n";
        assert_eq!(unterminated_string(open), Some(open.find("\">=").unwrap()));
    }

    #[test]
    fn a_yaml_quote_is_unclosed_only_when_it_runs_on_to_the_error_line() {
        let text = "a: don't\n# it's\nb: \">= 5\nc: \"x\" y\n";
        // YAML reads `>= 5\nc: ` as the value, closed by the quote before `x`.
        let close = text.find("\"x").unwrap();
        let open = text.find("\">=").unwrap();
        assert_eq!(unclosed_quote(text, close + 1), Some((open, close)));
        // Closed on its own line: the error is elsewhere.
        let text = "a: \"x\"\nb: [1,\n";
        assert_eq!(unclosed_quote(text, text.len() - 1), None);
    }

    /// A key between two levels is told which it is nearer to; one at a
    /// level of its own (the first key of a block, a `- `'s column) is not.
    #[test]
    fn a_key_between_levels_names_the_nearer_one() {
        let help = |text: &str| {
            let line_start = text.rfind('\n').map_or(0, |i| i + 1);
            let line = &text[line_start..];
            let own = line.len() - line.trim_start().len();
            let key = line.trim_start().split_once(':').unwrap().0;
            between_levels(text, line_start, key, own)
        };
        let short = help("cases:\n  - name: a\n    account: x\n   rows: []").unwrap();
        assert!(
            short.contains("one fewer than `account` above it (4)"),
            "{short}"
        );
        let after_block = help("a:\n  b:\n    c: 1\n   d: 2").unwrap();
        assert!(
            after_block.contains("one fewer than `c` above it (4)"),
            "{after_block}"
        );
        let past_outer = help("never:\n  - {type: x}\n from: 2026-11-25").unwrap();
        assert!(
            past_outer.contains("one more than `never` (0)"),
            "{past_outer}"
        );
        assert_eq!(
            help("when:\n      dpd: 5"),
            None,
            "the first key of a block"
        );
        assert_eq!(help("rows:\n  - id: a\n  when: 1"), None, "like the `- `");
        assert_eq!(help("a:\n  b: 1\n  c: 2"), None, "a sibling");
    }

    /// A key as near to the key above it as to the mapping's key around
    /// them is told both; when one of the two mappings has the key already,
    /// or is a mapping of days and the key no date, the other.
    #[test]
    fn a_key_halfway_between_two_keys_names_both_or_the_one_without_it() {
        let help = |text: &str| {
            let line_start = text.rfind('\n').map_or(0, |i| i + 1);
            let line = &text[line_start..];
            let own = line.len() - line.trim_start().len();
            let key = line.trim_start().split_once(':').unwrap().0;
            between_levels(text, line_start, key, own).unwrap()
        };
        let both = help("cases:\n  - name: a\n    on:\n      d:\n        c: 1\n     never: 2");
        assert!(
            both.contains("one fewer than `d` above it (6) and one more than `on` (4)")
                && both.contains("indent `never` like `on` to put it beside `on`, or like `d` to put it beside `d`"),
            "{both}"
        );
        let days = help(
            "cases:\n  - name: a\n    on:\n      2026-11-24:\n        contains: 1\n     never: 2",
        );
        assert!(
            days.contains("one more than `on` (4)")
                && days.contains("the keys beside `2026-11-24` are dates, and `never` is not one"),
            "{days}"
        );
        let in_a_day = help("    on:\n      2026-11-24:\n        contains: 1\n       excludes: 2");
        assert!(
            in_a_day.contains("one fewer than `contains` above it (8)"),
            "{in_a_day}"
        );
        let inner_has_it = help("x:\n  on:\n    d: 1\n    never: 2\n   never: 3");
        assert!(
            inner_has_it.contains("one more than `on` (2)")
                && inner_has_it.contains("has a `never` already"),
            "{inner_has_it}"
        );
        let outer_has_it = help("on:\n  never: 0\n  d:\n    c: 1\n   never: 2");
        assert!(
            outer_has_it.contains("one fewer than `c` above it (4)"),
            "{outer_has_it}"
        );
    }

    #[test]
    fn a_tab_is_found_in_the_indentation_after_the_error() {
        let text = "rows:\n  - id: a\n\twhen: x\n";
        let error_at = text.find("a\n").unwrap();
        assert_eq!(tab_indent(text, error_at), Some(text.find('\t').unwrap()));
        assert_eq!(tab_indent("a: b\tc\n", 2), None);
    }
}
