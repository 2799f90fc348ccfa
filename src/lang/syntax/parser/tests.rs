//! Unit tests of the parser: precedence, literals, spans, cells, and the
//! errors and hints it gives.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::lang::syntax::ast::{BinaryOp, ExprKind, Literal, UnaryOp, UnaryTestKind};

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
    // The help says what is wrong: the date is written year-month-day already.
    for (text, help) in [
        (
            "2026-02-30",
            "February 2026 has 28 days, so there is no day 30",
        ),
        (
            "2028-02-30",
            "February 2028 has 29 days, so there is no day 30",
        ),
        (
            "2026-04-31",
            "April 2026 has 30 days, so there is no day 31",
        ),
        (
            "2026-13-01",
            "there is no month 13: dates are written year-month-day, as in `2026-11-22`",
        ),
        ("2026-11-00", "days of the month start at 01"),
    ] {
        let e = parse_expr(text).unwrap_err();
        assert_eq!(e.help.as_deref(), Some(help), "{text}");
    }
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
