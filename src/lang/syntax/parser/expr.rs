//! Expressions from pest's pairs: operators through the Pratt table, literals
//! (dates, numbers, money, percentages, days, text with its escapes), paths,
//! calls and `x in list` clauses, each with its nesting depth checked against
//! [`MAX_NESTING`]. It must not resolve names or check types.

use chrono::NaiveDate;
use pest::iterators::Pair;
use rust_decimal::Decimal;

use super::{span_of, too_deep, ParseError, Rule, MAX_NESTING, PRATT};
use crate::decimal::NumberError;
use crate::lang::syntax::ast::{
    Arg, BinaryOp, Call, Each, Expr, ExprKind, Ident, Literal, UnaryOp,
};
use crate::source::Span;

/// An expression with its nesting depth.
type Built = (Expr, usize);

fn check_depth(depth: usize, span: Span) -> Result<usize, ParseError> {
    if depth > MAX_NESTING {
        Err(too_deep(span))
    } else {
        Ok(depth)
    }
}

pub(super) fn build_expr(pair: Pair<'_, Rule>) -> Result<Built, ParseError> {
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
            let op_span = span_of(&op);
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
            let depth = match check_depth(ld.max(rd) + 1, op_span) {
                Err(_) if ld >= rd && matches!(&lhs.kind, ExprKind::Binary(o, ..) if *o == op) => {
                    return Err(too_long_chain(op, op_span));
                }
                depth => depth?,
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

/// A flat chain (`a or b or …`) is as deep as it is long: say so, rather
/// than call it nested, and say how to shorten it.
fn too_long_chain(op: BinaryOp, span: Span) -> ParseError {
    let op = op.as_str();
    let group = format!(
        "group the terms in parentheses, `(a {op} b {op} …) {op} (c {op} d {op} …)`: a group is one level, not one per term"
    );
    let help = match op {
        "or" => format!(
            "to test one value against many, make the value an input and list the values in its cell (`0, 1, 2`); or {group}"
        ),
        "and" | "+" | "*" => group,
        _ => "write it with fewer operators in a row: each is one level".to_string(),
    };
    ParseError::new(
        format!("a chain of `{op}` has more than {MAX_NESTING} terms (the limit of an expression's nesting)"),
        span,
    )
    .with_help(help)
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

/// Why a date written year-month-day does not exist: its month, or its day
/// in that month; the format otherwise.
fn bad_date_help(year: Option<u32>, month: Option<u32>, day: Option<u32>) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return "dates are written year-month-day, as in `2026-11-22`".into();
    };
    if !(1..=12).contains(&month) {
        return format!(
            "there is no month {month}: dates are written year-month-day, as in `2026-11-22`"
        );
    }
    let last = (28..=31)
        .rev()
        .find(|&d| {
            i32::try_from(year)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, month, d))
                .is_some()
        })
        .unwrap_or(31);
    if day == 0 {
        return "days of the month start at 01".into();
    }
    format!(
        "{} {year} has {last} days, so there is no day {day}",
        MONTHS[month as usize - 1]
    )
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
                    .with_help(bad_date_help(field(0..4), field(5..7), field(8..10)))),
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
