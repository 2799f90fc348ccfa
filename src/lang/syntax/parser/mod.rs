//! The pest-based parser: text → [`Expr`] / [`Cell`], with readable errors.
//! It must not resolve names or look at the schema.
//!
//! The grammar lives in `grammar/arrears.pest`. Operator precedence is handled
//! by a Pratt parser over the flat `expr` rule. Errors are rebuilt from pest's
//! failure position into short lowercase sentences with an optional fix hint.

use std::sync::LazyLock;

use chrono::NaiveDate;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;
use pest_derive::Parser;
use rust_decimal::Decimal;

use super::ast::{
    Arg, BinaryOp, Call, Cell, CellKind, CompareOp, Each, Expr, ExprKind, Ident, Literal, UnaryOp,
    UnaryTest, UnaryTestKind,
};
use crate::decimal::NumberError;
use crate::source::Span;

/// Expressions nested deeper than this (brackets, operators, calls) are
/// rejected with a [`ParseError`] instead of risking a stack overflow.
pub const MAX_NESTING: usize = 64;

/// A syntax error: a lowercase message, the span of the offending text
/// (relative to the parsed string) and an optional hint on how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl ParseError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
            help: None,
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

#[derive(Parser)]
#[grammar = "../grammar/arrears.pest"]
struct ArrearsParser;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// Which entry point is parsing; changes some wording and hints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Expr,
    Cell,
}

/// Parses a whole expression such as `account.arrears >= $5 and not paused`.
pub fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    prescan(text)?;
    let mut pairs = ArrearsParser::parse(Rule::expr_entry, text)
        .map_err(|e| convert_error(text, &e, Mode::Expr))?;
    let entry = pairs.next().ok_or_else(|| internal(text))?;
    let expr = entry
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .ok_or_else(|| internal(text))?;
    Ok(build_expr(expr)?.0)
}

/// Parses a decision-table condition cell such as `>= 5`, `[1..29]`,
/// `"CA", "TX"`, `not("NY")` or `-`.
pub fn parse_cell(text: &str) -> Result<Cell, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Cell {
            kind: CellKind::Any,
            span: Span::new(0, 0),
        });
    }
    let start = text.len() - text.trim_start().len();
    let whole = Span::new(start, start + trimmed.len());
    if trimmed == "-" {
        return Ok(Cell {
            kind: CellKind::Any,
            span: whole,
        });
    }
    prescan(text)?;
    let mut pairs = ArrearsParser::parse(Rule::cell_entry, text)
        .map_err(|e| convert_error(text, &e, Mode::Cell))?;
    let entry = pairs.next().ok_or_else(|| internal(text))?;
    for pair in entry.into_inner() {
        match pair.as_rule() {
            Rule::negated_cell => {
                let list = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::test_list)
                    .ok_or_else(|| internal(text))?;
                return Ok(Cell {
                    kind: CellKind::Tests {
                        negated: true,
                        tests: build_tests(list)?,
                    },
                    span: whole,
                });
            }
            Rule::test_list => {
                return Ok(Cell {
                    kind: CellKind::Tests {
                        negated: false,
                        tests: build_tests(pair)?,
                    },
                    span: whole,
                });
            }
            _ => {}
        }
    }
    Err(internal(text))
}

fn internal(text: &str) -> ParseError {
    ParseError::new(
        "internal parser error: unexpected parse tree",
        Span::new(0, text.len()),
    )
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

// ---------------------------------------------------------------- pre-scan

/// Checks bracket nesting (pest recurses on nested brackets), unclosed text
/// and thousands separators before handing the input to pest.
fn prescan(text: &str) -> Result<(), ParseError> {
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

fn too_deep(span: Span) -> ParseError {
    ParseError::new(
        format!("expression is nested too deeply (the limit is {MAX_NESTING} levels)"),
        span,
    )
    .with_help("split it into smaller expressions")
}

// ---------------------------------------------------------------- building

/// An expression with its nesting depth.
type Built = (Expr, usize);

fn check_depth(depth: usize, span: Span) -> Result<usize, ParseError> {
    if depth > MAX_NESTING {
        Err(too_deep(span))
    } else {
        Ok(depth)
    }
}

fn build_expr(pair: Pair<'_, Rule>) -> Result<Built, ParseError> {
    // The Pratt parser recurses once per prefix operator: bound the run.
    let mut run = 0usize;
    for p in pair.clone().into_inner() {
        if matches!(p.as_rule(), Rule::op_not | Rule::op_neg) {
            run += 1;
            if run > MAX_NESTING {
                return Err(too_deep(span_of(&p)));
            }
        } else {
            run = 0;
        }
    }
    PRATT
        .map_primary(build_primary)
        .map_prefix(|op, rhs| {
            let (rhs, depth) = rhs?;
            let op_span = span_of(&op);
            let span = op_span.to(rhs.span);
            let depth = check_depth(depth + 1, op_span)?;
            let op = match op.as_rule() {
                Rule::op_not => UnaryOp::Not,
                _ => UnaryOp::Neg,
            };
            Ok((
                Expr {
                    kind: ExprKind::Unary(op, Box::new(rhs)),
                    span,
                },
                depth,
            ))
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, ld) = lhs?;
            let (rhs, rd) = rhs?;
            let depth = check_depth(ld.max(rd) + 1, span_of(&op))?;
            let op = match op.as_rule() {
                Rule::op_or => BinaryOp::Or,
                Rule::op_and => BinaryOp::And,
                Rule::op_eq => BinaryOp::Eq,
                Rule::op_ne => BinaryOp::Ne,
                Rule::op_lt => BinaryOp::Lt,
                Rule::op_le => BinaryOp::Le,
                Rule::op_gt => BinaryOp::Gt,
                Rule::op_ge => BinaryOp::Ge,
                Rule::op_add => BinaryOp::Add,
                Rule::op_sub => BinaryOp::Sub,
                Rule::op_mul => BinaryOp::Mul,
                _ => BinaryOp::Div,
            };
            let span = lhs.span.to(rhs.span);
            Ok((
                Expr {
                    kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                    span,
                },
                depth,
            ))
        })
        .parse(pair.into_inner())
}

fn lit(literal: Literal, span: Span) -> Result<Built, ParseError> {
    Ok((
        Expr {
            kind: ExprKind::Literal(literal),
            span,
        },
        1,
    ))
}

fn first_inner<'i>(pair: &Pair<'i, Rule>, rule: Rule) -> Result<Pair<'i, Rule>, ParseError> {
    pair.clone()
        .into_inner()
        .find(|p| p.as_rule() == rule)
        .ok_or_else(|| ParseError::new("internal parser error", span_of(pair)))
}

fn parse_decimal(text: &str, span: Span) -> Result<Decimal, ParseError> {
    // The reader of account amounts: exact, a 29th digit is refused, not rounded.
    crate::decimal::read_decimal(text).map_err(|e| {
        let message = match e {
            NumberError::TooPrecise => {
                format!("number `{text}` has more digits than a decimal holds")
            }
            _ => format!("number `{text}` is too large"),
        };
        ParseError::new(message, span).with_help("numbers have at most 28 significant digits")
    })
}

fn parse_integer(text: &str, span: Span) -> Result<i64, ParseError> {
    text.parse::<i64>().map_err(|_| {
        ParseError::new(format!("number `{text}` is too large"), span)
            .with_help(format!("whole numbers must be at most {}", i64::MAX))
    })
}

fn build_primary(pair: Pair<'_, Rule>) -> Result<Built, ParseError> {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::date => {
            let s = pair.as_str();
            let field = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
            let date = match (field(0..4), field(5..7), field(8..10)) {
                (Some(y), Some(m), Some(d)) => i32::try_from(y)
                    .ok()
                    .and_then(|y| NaiveDate::from_ymd_opt(y, m, d)),
                _ => None,
            };
            match date {
                Some(d) => lit(Literal::Date(d), span),
                None => Err(ParseError::new(format!("`{s}` is not a valid date"), span)
                    .with_help("dates are written year-month-day, as in `2026-11-22`")),
            }
        }
        Rule::number => {
            let s = pair.as_str();
            if s.contains('.') {
                lit(Literal::Decimal(parse_decimal(s, span)?), span)
            } else {
                lit(Literal::Integer(parse_integer(s, span)?), span)
            }
        }
        Rule::dollar => {
            let n = first_inner(&pair, Rule::number)?;
            let amount = parse_decimal(n.as_str(), span_of(&n))?;
            lit(
                Literal::Money {
                    amount,
                    currency: None,
                },
                span,
            )
        }
        Rule::coded_money => {
            let n = first_inner(&pair, Rule::number)?;
            let c = first_inner(&pair, Rule::currency)?;
            let amount = parse_decimal(n.as_str(), span_of(&n))?;
            lit(
                Literal::Money {
                    amount,
                    currency: Some(c.as_str().to_string()),
                },
                span,
            )
        }
        Rule::percent => {
            let n = first_inner(&pair, Rule::number)?;
            let mut value = parse_decimal(n.as_str(), span_of(&n))?;
            // Exact: 10% is 10 with two more decimal places, 0.10.
            value
                .set_scale(value.scale() + 2)
                .map_err(|_| ParseError::new("percentage has too many decimal places", span))?;
            lit(Literal::Percent(value), span)
        }
        Rule::days => {
            let n = first_inner(&pair, Rule::number)?;
            let s = n.as_str();
            if s.contains('.') {
                return Err(ParseError::new(
                    "a number of days must be a whole number",
                    span_of(&n),
                )
                .with_help("write whole days, as in `3 days`"));
            }
            lit(Literal::Days(parse_integer(s, span_of(&n))?), span)
        }
        Rule::text => {
            let inner = first_inner(&pair, Rule::text_inner)?;
            let value = unescape(inner.as_str(), span_of(&inner).start)?;
            lit(Literal::Text(value), span)
        }
        Rule::kw_true => lit(Literal::Bool(true), span),
        Rule::kw_false => lit(Literal::Bool(false), span),
        Rule::kw_null => lit(Literal::Null, span),
        Rule::path => {
            let segments = pair
                .into_inner()
                .filter(|p| p.as_rule() == Rule::ident)
                .map(|p| ident(&p))
                .collect();
            Ok((
                Expr {
                    kind: ExprKind::Path(segments),
                    span,
                },
                1,
            ))
        }
        Rule::paren => {
            let inner = first_inner(&pair, Rule::expr)?;
            let (mut e, depth) = build_expr(inner)?;
            e.span = span;
            Ok((e, depth))
        }
        Rule::call => build_call(pair),
        _ => Err(ParseError::new("internal parser error", span)),
    }
}

fn ident(pair: &Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(pair),
    }
}

fn build_call(pair: Pair<'_, Rule>) -> Result<Built, ParseError> {
    let span = span_of(&pair);
    let function = ident(&first_inner(&pair, Rule::ident)?);
    let mut args = Vec::new();
    let mut depth = 1usize;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::expr => {
                let (e, d) = build_expr(p)?;
                depth = depth.max(d + 1);
                args.push(Arg::Expr(e));
            }
            Rule::each => {
                let (each, d) = build_each(p)?;
                depth = depth.max(d + 1);
                args.push(Arg::Each(each));
            }
            _ => {}
        }
    }
    let depth = check_depth(depth, function.span)?;
    Ok((
        Expr {
            kind: ExprKind::Call(Call { function, args }),
            span,
        },
        depth,
    ))
}

fn build_each(pair: Pair<'_, Rule>) -> Result<(Each, usize), ParseError> {
    let span = span_of(&pair);
    let binder = ident(&first_inner(&pair, Rule::ident)?);
    let mut list = None;
    let mut filter = None;
    let mut body = None;
    let mut depth = 0usize;
    // Which clause the next `expr` belongs to.
    let mut slot = 0u8;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::kw_in => slot = 0,
            Rule::kw_where => slot = 1,
            Rule::colon => slot = 2,
            Rule::expr => {
                let (e, d) = build_expr(p)?;
                depth = depth.max(d);
                match slot {
                    0 => list = Some(e),
                    1 => filter = Some(e),
                    _ => body = Some(e),
                }
            }
            _ => {}
        }
    }
    let list = list.ok_or_else(|| ParseError::new("internal parser error", span))?;
    Ok((
        Each {
            binder,
            list,
            filter,
            body,
            span,
        },
        depth + 1,
    ))
}

fn unescape(raw: &str, offset: usize) -> Result<String, ParseError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((j, other)) => {
                return Err(ParseError::new(
                    format!("unknown escape `\\{other}` in text"),
                    Span::new(offset + i, offset + j + other.len_utf8()),
                )
                .with_help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`"));
            }
            None => {
                return Err(ParseError::new(
                    "unfinished escape at the end of the text",
                    Span::new(offset + i, offset + i + 1),
                ))
            }
        }
    }
    Ok(out)
}

fn build_tests(list: Pair<'_, Rule>) -> Result<Vec<UnaryTest>, ParseError> {
    let mut tests = Vec::new();
    for p in list.into_inner() {
        if p.as_rule() == Rule::unary_test {
            tests.push(build_test(p)?);
        }
    }
    Ok(tests)
}

fn build_test(pair: Pair<'_, Rule>) -> Result<UnaryTest, ParseError> {
    let span = span_of(&pair);
    let text = pair.as_str();
    let inner = pair
        .into_inner()
        .next()
        .ok_or_else(|| ParseError::new("internal parser error", span))?;
    let kind = match inner.as_rule() {
        Rule::compare_test => {
            let mut it = inner.into_inner();
            let op_pair = it
                .next()
                .and_then(|p| p.into_inner().next())
                .ok_or_else(|| ParseError::new("internal parser error", span))?;
            let op = match op_pair.as_rule() {
                Rule::op_eq => CompareOp::Eq,
                Rule::op_ne => CompareOp::Ne,
                Rule::op_lt => CompareOp::Lt,
                Rule::op_le => CompareOp::Le,
                Rule::op_gt => CompareOp::Gt,
                _ => CompareOp::Ge,
            };
            let e = it
                .find(|p| p.as_rule() == Rule::expr)
                .ok_or_else(|| ParseError::new("internal parser error", span))?;
            UnaryTestKind::Compare(op, build_expr(e)?.0)
        }
        Rule::range_test => build_range(inner.into_inner(), span)?,
        _ => {
            let (e, _) = build_expr(inner)?;
            reject_dash_range(&e, text)?;
            UnaryTestKind::Equals(e)
        }
    };
    Ok(UnaryTest { kind, span })
}

fn build_range(pairs: Pairs<'_, Rule>, span: Span) -> Result<UnaryTestKind, ParseError> {
    let mut low_inclusive = true;
    let mut high_inclusive = true;
    let mut bounds = Vec::with_capacity(2);
    for p in pairs {
        match p.as_rule() {
            Rule::range_open => low_inclusive = p.as_str() == "[",
            Rule::range_close => high_inclusive = p.as_str() == "]",
            Rule::expr => bounds.push(build_expr(p)?.0),
            _ => {}
        }
    }
    let mut bounds = bounds.into_iter();
    match (bounds.next(), bounds.next()) {
        (Some(low), Some(high)) => Ok(UnaryTestKind::Range {
            low,
            low_inclusive,
            high,
            high_inclusive,
        }),
        _ => Err(ParseError::new("internal parser error", span)),
    }
}

/// A bare cell `5 - 10` (literal minus literal, no brackets) is almost
/// certainly a range written the spreadsheet way, not a subtraction.
fn reject_dash_range(e: &Expr, text: &str) -> Result<(), ParseError> {
    let ExprKind::Binary(BinaryOp::Sub, l, r) = &e.kind else {
        return Ok(());
    };
    let is_lit = |x: &Expr| {
        matches!(
            x.kind,
            ExprKind::Literal(
                Literal::Integer(_)
                    | Literal::Decimal(_)
                    | Literal::Money { .. }
                    | Literal::Date(_)
                    | Literal::Percent(_)
            )
        )
    };
    if text.starts_with('(') || !is_lit(l) || !is_lit(r) {
        return Ok(());
    }
    let low = text.get(l.span.start - e.span.start..l.span.end - e.span.start);
    let high = text.get(r.span.start - e.span.start..r.span.end - e.span.start);
    let (Some(low), Some(high)) = (low, high) else {
        return Ok(());
    };
    Err(ParseError::new(
        format!("`{}` is a subtraction, not a range", text.trim()),
        e.span,
    )
    .with_help(format!("write a range as `[{low}..{high}]`")))
}

// ---------------------------------------------------------------- errors

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

fn convert_error(text: &str, err: &pest::error::Error<Rule>, mode: Mode) -> ParseError {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
    .min(text.len());
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
            if let Some(fixed) = comma_range_fix(text, cur.start) {
                return Some(format!("write a range as `{fixed}`"));
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

fn comma_range_fix(text: &str, pos: usize) -> Option<String> {
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
    Some(format!("{open_ch}{low}..{high}{close_ch}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(text: &str) -> Expr {
        parse_expr(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn literal(text: &str) -> Literal {
        match expr(text).kind {
            ExprKind::Literal(l) => l,
            other => panic!("{text:?} is not a literal: {other:?}"),
        }
    }

    #[test]
    fn a_range_with_a_dash_is_shown_at_the_dash_with_the_range_written_right() {
        for (cell, at, fixed) in [
            ("[30-59]", 3, "[30..59]"),
            ("(1 - 5]", 3, "(1..5]"),
            ("[-5-5)", 3, "[-5..5)"),
            ("[$5-$10]", 3, "[$5..$10]"),
        ] {
            let err = parse_cell(cell).unwrap_err();
            assert_eq!(err.span.start, at, "{cell}");
            assert_eq!(
                err.help.as_deref(),
                Some(format!("write `{fixed}`").as_str()),
                "{cell}"
            );
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(expr("1 + 2 * 3").to_string(), "(1 + (2 * 3))");
        assert_eq!(expr("not a = b and c").to_string(), "((not (a = b)) and c)");
        assert_eq!(expr("a or b and c").to_string(), "(a or (b and c))");
        assert_eq!(expr("-a * b").to_string(), "((-a) * b)");
        assert_eq!(expr("a - b - c").to_string(), "((a - b) - c)");
        assert_eq!(expr("a + b >= c * d").to_string(), "((a + b) >= (c * d))");
    }

    #[test]
    fn money_keeps_exact_decimals() {
        let Literal::Money { amount, currency } = literal("$0.10") else {
            panic!("not money");
        };
        assert_eq!(currency, None);
        assert_eq!(amount, Decimal::new(10, 2));
        assert_eq!(amount.scale(), 2);
        assert_eq!(amount.to_string(), "0.10");

        let Literal::Money { amount, currency } = literal("5.00 USD") else {
            panic!("not money");
        };
        assert_eq!(currency.as_deref(), Some("USD"));
        assert_eq!(amount.scale(), 2);
        assert_eq!(amount.to_string(), "5.00");

        match expr("-$5").kind {
            ExprKind::Unary(UnaryOp::Neg, inner) => assert_eq!(
                inner.kind,
                ExprKind::Literal(Literal::Money {
                    amount: Decimal::new(5, 0),
                    currency: None
                })
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_percent_days() {
        assert_eq!(literal("10%"), Literal::Percent(Decimal::new(10, 2)));
        assert_eq!(literal("2.5%"), Literal::Percent(Decimal::new(25, 3)));
        assert_eq!(literal("5"), Literal::Integer(5));
        let Literal::Decimal(d) = literal("5.250") else {
            panic!("not decimal");
        };
        assert_eq!(d.to_string(), "5.250");
        assert_eq!(literal("3 days"), Literal::Days(3));
        assert_eq!(literal("1 day"), Literal::Days(1));
        assert!(parse_expr("9223372036854775808")
            .unwrap_err()
            .message
            .contains("too large"));
        assert_eq!(literal("9223372036854775807"), Literal::Integer(i64::MAX));
    }

    #[test]
    fn dates_are_validated() {
        assert_eq!(
            literal("2026-11-22"),
            Literal::Date(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        );
        assert_eq!(
            literal("2028-02-29"),
            Literal::Date(NaiveDate::from_ymd_opt(2028, 2, 29).unwrap())
        );
        let e = parse_expr("2026-02-30").unwrap_err();
        assert_eq!(e.message, "`2026-02-30` is not a valid date");
        assert_eq!(e.span, Span::new(0, 10));
        assert!(parse_expr("2027-02-29").is_err());
        // With spaces it is arithmetic.
        assert_eq!(expr("2026 - 11 - 22").to_string(), "((2026 - 11) - 22)");
    }

    #[test]
    fn spans() {
        let e = expr("account.arrears >= $5");
        assert_eq!(e.span, Span::new(0, 21));
        let ExprKind::Binary(BinaryOp::Ge, l, r) = e.kind else {
            panic!("not >=");
        };
        assert_eq!(l.span, Span::new(0, 15));
        let ExprKind::Path(segs) = &l.kind else {
            panic!("not a path");
        };
        assert_eq!(segs[0].span, Span::new(0, 7));
        assert_eq!(segs[1].span, Span::new(8, 15));
        assert_eq!(segs[1].name, "arrears");
        assert_eq!(r.span, Span::new(19, 21));

        let c = parse_cell("  >= 5, [1..2] ").unwrap();
        assert_eq!(c.span, Span::new(2, 14));
        let CellKind::Tests { negated, tests } = c.kind else {
            panic!("not tests");
        };
        assert!(!negated);
        assert_eq!(tests[0].span, Span::new(2, 6));
        assert_eq!(tests[1].span, Span::new(8, 14));
    }

    #[test]
    fn cells() {
        assert_eq!(parse_cell("").unwrap().kind, CellKind::Any);
        assert_eq!(parse_cell("").unwrap().span, Span::new(0, 0));
        assert_eq!(parse_cell("   ").unwrap().kind, CellKind::Any);
        let dash = parse_cell(" - ").unwrap();
        assert_eq!(dash.kind, CellKind::Any);
        assert_eq!(dash.span, Span::new(1, 2));

        let c = parse_cell("not(\"NY\", \"NJ\")").unwrap();
        let CellKind::Tests { negated, tests } = c.kind else {
            panic!("not tests");
        };
        assert!(negated);
        assert_eq!(tests.len(), 2);

        let c = parse_cell("(0..$100]").unwrap();
        let CellKind::Tests { tests, .. } = c.kind else {
            panic!("not tests");
        };
        let UnaryTestKind::Range {
            low_inclusive,
            high_inclusive,
            ..
        } = &tests[0].kind
        else {
            panic!("not a range");
        };
        assert!(!low_inclusive);
        assert!(high_inclusive);

        let c = parse_cell("[1..29]").unwrap();
        let CellKind::Tests { tests, .. } = c.kind else {
            panic!("not tests");
        };
        let UnaryTestKind::Range { low, high, .. } = &tests[0].kind else {
            panic!("not a range");
        };
        assert_eq!(low.kind, ExprKind::Literal(Literal::Integer(1)));
        assert_eq!(high.kind, ExprKind::Literal(Literal::Integer(29)));
    }

    #[test]
    fn error_spans_and_help() {
        let e = parse_cell(">==5").unwrap_err();
        assert_eq!(e.message, "unexpected `=` after `>=`");
        assert_eq!(e.span, Span::new(2, 3));
        assert_eq!(e.help.as_deref(), Some("write `>=`"));

        let e = parse_cell(">= ").unwrap_err();
        assert_eq!(e.message, "expected an expression after `>=`");
        assert_eq!(e.span, Span::new(3, 3));

        let e = parse_cell("5..10").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("write a range as `[5..10]`"));

        let e = parse_cell("'CA'").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("text uses double quotes: \"CA\""));

        let e = parse_expr("(1 + 2").unwrap_err();
        assert_eq!(e.message, "unclosed `(`");
        assert_eq!(e.span, Span::new(0, 1));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "é", "$é", "\"é", "5 é", "é5", "((", "))", "[..]", "\\", "\"\\", "1.", "1..", "\u{0}",
            "not", "not(", "not()", "f(,)", "sa in xs", "x:y", "%", "5 %",
        ] {
            // Refused with a message pointing inside the text, or accepted and printed back stably.
            match parse_expr(text) {
                Err(e) => assert_error_within(text, &e),
                Ok(x) => assert_eq!(
                    parse_expr(&x.to_string()).map(|y| y.to_string()),
                    Ok(x.to_string())
                ),
            }
            match parse_cell(text) {
                Err(e) => assert_error_within(text, &e),
                Ok(c) => assert_eq!(
                    parse_cell(&c.to_string()).map(|y| y.to_string()),
                    Ok(c.to_string())
                ),
            }
        }
        // The ones that must be refused are.
        for text in ["((", "))", "\\", "1..", "not(", "f(,)", "%"] {
            assert!(parse_expr(text).is_err(), "{text:?}");
        }
    }

    fn assert_error_within(text: &str, e: &ParseError) {
        assert!(!e.message.is_empty(), "{text:?}");
        assert!(
            e.span.start <= e.span.end && e.span.end <= text.len(),
            "{text:?}: {:?} outside the text",
            e.span
        );
        assert!(
            text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end),
            "{text:?}: {:?}",
            e.span
        );
    }
}
