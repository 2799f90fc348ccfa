//! `quoted-threshold`: a row id, or a constant text output of the row (a reason), that quotes a
//! number its own row's conditions test against (`card-loan-5d-5usd` on `dpd >= 5`,
//! reason "5+ days past due"), so an edit to the threshold leaves the name or the reason wrong.
//! It reads the checked table only. It must not judge a number the row does not test, a label
//! (`tier-2`, `stage-1`, `L1`, `2nd`, a snake-case code `BROKEN_PROMISE_1`), a date or a time,
//! nor a text the row computes.

use rust_decimal::Decimal;

use crate::data::schema::Schema;
use crate::diagnostic::Diagnostic;
use crate::lang::ir::{Row, TExprKind, TTest, Table};
use crate::source::Span;
use crate::types::{Type, Value};

use super::unused::walk;

/// Words after which a number is a label, not a quantity: `tier-2`, `stage 1`.
const LABEL_WORDS: &[&str] = &[
    "band", "grade", "group", "level", "no", "number", "option", "part", "phase", "priority",
    "rank", "round", "stage", "step", "tier", "version", "wave",
];

/// Unit words that say a number counts days.
const DAY_UNITS: &[&str] = &["d", "day", "days", "dpd", "bd"];

/// What the text says a number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    /// `$5`, `5usd`: money only.
    Money,
    /// `10%`: a decimal written as a percentage.
    Percent,
    /// `5d`, `5 days`: an integer or days column.
    Days,
    /// A bare number: any numeric threshold of that value.
    Plain,
}

/// A number written in an id or a text.
#[derive(Debug, PartialEq, Eq)]
struct Quoted {
    /// As written, unit included (`5usd`, `$1,000`, `10%`).
    text: String,
    /// Byte offset in the id or text.
    at: usize,
    value: Decimal,
    unit: Unit,
}

/// A constant a row's cell tests against.
struct Threshold<'a> {
    value: Decimal,
    ty: Type,
    column: &'a str,
    cell: &'a str,
}

impl Threshold<'_> {
    fn quoted_by(&self, q: &Quoted) -> bool {
        let money = self.ty == Type::Money;
        match q.unit {
            Unit::Money => money && self.value == q.value,
            Unit::Percent => {
                self.ty == Type::Decimal && self.value * Decimal::ONE_HUNDRED == q.value
            }
            Unit::Days => matches!(self.ty, Type::Integer | Type::Days) && self.value == q.value,
            Unit::Plain => self.value == q.value,
        }
    }
}

/// One `quoted-threshold` warning per row id or constant text output that quotes its row's thresholds.
pub(super) fn quoted_thresholds(schema: &Schema, table: &Table) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for row in &table.rows {
        let thresholds = thresholds(table, row);
        if thresholds.is_empty() {
            continue;
        }
        let mut texts = vec![(format!("row id `{}`", row.id), row.id.as_str(), row.id_span)];
        for (o, expr) in row.outputs.iter().enumerate() {
            if let TExprKind::Const(Value::Text(text)) = &expr.kind {
                texts.push((
                    format!("`{}` of row `{}`", table.outputs[o].name, row.id),
                    text,
                    row.output_spans[o],
                ));
            }
        }
        for (what, text, span) in texts {
            let found: Vec<(Quoted, Vec<&Threshold>)> = numbers(text, &schema.currency)
                .into_iter()
                .map(|q| {
                    let hits = thresholds.iter().filter(|t| t.quoted_by(&q)).collect();
                    (q, hits)
                })
                .filter(|(_, hits): &(Quoted, Vec<&Threshold>)| !hits.is_empty())
                .collect();
            let Some((first, _)) = found.first() else {
                continue;
            };
            let listed: Vec<String> = found
                .iter()
                .map(|(q, hits)| {
                    let cells: Vec<String> = hits
                        .iter()
                        .map(|t| format!("`{}: {}`", t.column, t.cell))
                        .collect();
                    format!("`{}` is {}", q.text, cells.join(" or "))
                })
                .collect();
            let message = format!(
                "{what} quotes {} of its row: {}",
                if found.len() == 1 {
                    "a threshold"
                } else {
                    "thresholds"
                },
                listed.join(", ")
            );
            out.push(
                Diagnostic::warning(
                    "quoted-threshold",
                    &table.file,
                    token_span(&table.file.text, span, text, first),
                    message,
                )
                .with_help(
                    "name the row for what it decides (`consumer-in-arrears`, \"consumer account past due\"), not for its numbers: an edit to a threshold would leave this text wrong, and `dry-run --explain` already shows every condition with its numbers",
                ),
            );
        }
    }
    out
}

/// The numeric constants the row's cells test against, with their column.
fn thresholds<'a>(table: &'a Table, row: &'a Row) -> Vec<Threshold<'a>> {
    let mut found = Vec::new();
    for (c, cell) in row.cells.iter().enumerate() {
        for test in &cell.tests {
            let operands = match test {
                TTest::Compare(_, e) => vec![e],
                TTest::Range { low, high, .. } => vec![low, high],
            };
            for operand in operands {
                walk(operand, &mut |e| {
                    let value = match &e.kind {
                        TExprKind::Const(Value::Int(n)) => Decimal::from(*n),
                        TExprKind::Const(Value::Dec(d)) => *d,
                        _ => return,
                    };
                    found.push(Threshold {
                        value,
                        ty: e.ty.clone(),
                        column: &table.inputs[c].name,
                        cell: &cell.text,
                    });
                });
            }
        }
    }
    found
}

/// Where the quoted number `q` of `text` is written inside `span`: at its offset when the
/// source holds the text as is, else where its digits first appear, else the span's start.
fn token_span(source: &str, span: Span, text: &str, q: &Quoted) -> Span {
    let written = source.get(span.start..span.end).unwrap_or("");
    let at = if written == text {
        Some(q.at)
    } else {
        written.find(&q.text)
    };
    at.map_or(Span::new(span.start, span.start + 1), |at| {
        Span::new(span.start + at, span.start + at + q.text.len())
    })
}

/// The numbers a text quotes as quantities (see the module doc for what is left out).
fn numbers(text: &str, currency: &str) -> Vec<Quoted> {
    let b = text.as_bytes();
    // `_` glues like a letter: `b1_29`, `BROKEN_PROMISE_1` are codes, not quantities.
    let glued = |i: usize| i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_');
    let digit = |i: usize| i < b.len() && b[i].is_ascii_digit();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while digit(i) {
            i += 1;
        }
        // Thousands separators (`1,000`) and a fraction (`4.99`).
        while i + 3 < b.len() && b[i] == b',' && (1..=3).all(|k| digit(i + k)) && !digit(i + 4) {
            i += 4;
        }
        if i < b.len() && b[i] == b'.' && digit(i + 1) {
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        let end = i;
        if date_at(b, start) {
            i = start + 10;
            continue;
        }
        if end < b.len() && matches!(b[end], b':' | b'/') && digit(end + 1) {
            // A time (`10:30`) or a fraction (`1/2`).
            i = end + 1;
            while digit(i) || (i < b.len() && matches!(b[i], b':' | b'/') && digit(i + 1)) {
                i += 1;
            }
            continue;
        }
        // Glued to a letter before (`L1`, `b1_29`, `v1.2.3`): a label.
        let glued_before = start > 0
            && (glued(start - 1)
                || (matches!(b[start - 1], b'.' | b',') && start >= 2 && glued(start - 2)));
        if glued_before {
            while glued(i) || (i < b.len() && b[i] == b'.' && digit(i + 1)) {
                i += 1;
            }
            continue;
        }
        if label_word_before(text, start) {
            continue;
        }
        let Some(value) = crate::decimal::parse_decimal(&text[start..end].replace(',', "")) else {
            continue;
        };
        let prefix = ['$', '£', '€']
            .into_iter()
            .find(|c| text[..start].ends_with(*c));
        // `USD 5`: a currency code written before the amount, as the shipped descriptions do.
        let code_before = text[..start].strip_suffix(' ').is_some_and(|head| {
            let word = &head[head
                .rfind(|c: char| !c.is_ascii_alphabetic())
                .map_or(0, |p| p + 1)..];
            word_unit(word, currency) == Some(Unit::Money)
        });
        let mut unit = if prefix.is_some() || code_before {
            Unit::Money
        } else {
            Unit::Plain
        };
        let mut token_end = end;
        if end < b.len() && b[end] == b'%' {
            unit = Unit::Percent;
            token_end = end + 1;
        } else if glued(end) {
            let mut k = end;
            while glued(k) {
                k += 1;
            }
            match word_unit(&text[end..k], currency) {
                // `2nd`, `4k`, `1a`: a label or a unit this lint does not read.
                None => {
                    i = k;
                    continue;
                }
                Some(u) => {
                    if prefix.is_none() {
                        unit = u;
                    }
                    token_end = k;
                }
            }
        } else if prefix.is_none() {
            // `5 days`, `5+ days`, `90-dpd`: the next word says what the number counts.
            let mut k = end;
            if k < b.len() && b[k] == b'+' {
                k += 1;
            }
            if k < b.len() && matches!(b[k], b' ' | b'-') {
                k += 1;
            }
            let w = k;
            while k < b.len() && b[k].is_ascii_alphabetic() {
                k += 1;
            }
            if let Some(u) = word_unit(&text[w..k], currency) {
                unit = u;
            }
        }
        let token_start = start - prefix.map_or(0, char::len_utf8);
        out.push(Quoted {
            text: text[token_start..token_end].to_string(),
            at: token_start,
            value,
            unit,
        });
        i = token_end;
    }
    out
}

/// `2024-01-15` or `15/01/2024` starts at `i`.
fn date_at(b: &[u8], i: usize) -> bool {
    let shape = |pattern: &[u8]| {
        b.len() >= i + pattern.len()
            && pattern.iter().zip(&b[i..]).all(|(p, c)| match p {
                b'9' => c.is_ascii_digit(),
                sep => c == sep || (*sep == b'-' && matches!(c, b'/' | b'_' | b'.')),
            })
    };
    shape(b"9999-99-99") || shape(b"99-99-9999")
}

/// The word right before a number (after `-`, `_` or one space) is a label word.
fn label_word_before(text: &str, start: usize) -> bool {
    let head = &text[..start];
    let Some(head) = head.strip_suffix(['-', '_', ' ']) else {
        return false;
    };
    let word_start = head
        .rfind(|c: char| !c.is_ascii_alphabetic())
        .map_or(0, |p| p + 1);
    let word = head[word_start..].to_ascii_lowercase();
    LABEL_WORDS.contains(&word.as_str())
}

/// The unit a word written after a number names, if this lint reads it.
fn word_unit(word: &str, currency: &str) -> Option<Unit> {
    let w = word.to_ascii_lowercase();
    if DAY_UNITS.contains(&w.as_str()) {
        Some(Unit::Days)
    } else if w == currency.to_ascii_lowercase()
        || matches!(w.as_str(), "usd" | "eur" | "gbp" | "dollars")
    {
        Some(Unit::Money)
    } else if matches!(w.as_str(), "pct" | "percent") {
        Some(Unit::Percent)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(text: &str) -> Vec<(String, Unit)> {
        numbers(text, "USD")
            .into_iter()
            .map(|q| (q.text, q.unit))
            .collect()
    }

    fn q(text: &str, unit: Unit) -> (String, Unit) {
        (text.to_string(), unit)
    }

    #[test]
    fn numbers_with_their_units() {
        assert_eq!(
            quoted("card-loan-5d-5usd"),
            [q("5d", Unit::Days), q("5usd", Unit::Money)]
        );
        assert_eq!(
            quoted("5+ days and $5 past due"),
            [q("5", Unit::Days), q("$5", Unit::Money)]
        );
        assert_eq!(
            quoted("over $1,000.50 or 10% of the limit"),
            [q("$1,000.50", Unit::Money), q("10%", Unit::Percent)]
        );
        assert_eq!(
            quoted("bucket-1-29"),
            [q("1", Unit::Plain), q("29", Unit::Plain)]
        );
        assert_eq!(quoted("late-90-dpd"), [q("90", Unit::Days)]);
        assert_eq!(quoted("over £15"), [q("£15", Unit::Money)]);
        // The currency code before the amount, as the shipped descriptions write it.
        assert_eq!(
            quoted("5 days and USD 5"),
            [q("5", Unit::Days), q("5", Unit::Money)]
        );
    }

    #[test]
    fn labels_dates_and_times_are_not_quantities() {
        for text in [
            "tier-2",
            "stage-1",
            "stage 1",
            "L1",
            "b1",
            "v1.2.3",
            "2nd-letter",
            "from-2024-01-15",
            "until 15/01/2024",
            "at 10:30",
            "card_early_std",
            "BROKEN_PROMISE_1",
            "b1_29",
        ] {
            assert_eq!(quoted(text), [], "{text}");
        }
    }
}
