//! Canonical printing: every `Display` here produces source text that parses
//! back to the same tree (modulo spans). Binary and unary operations are fully
//! parenthesised so precedence never matters when re-reading.
//! It must not print anything lossy: print then parse is the identity.
//! `canonical_expr` and `canonical_cell` are the formatter's text: the same
//! trees with only the brackets precedence needs, checked to read back alike.

use std::fmt::{self, Display, Formatter, Write};

use rust_decimal::Decimal;

use super::ast::{
    Arg, Cell, CellKind, Each, Expr, ExprKind, Literal, UnaryOp, UnaryTest, UnaryTestKind,
};

fn write_text(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Integer(i) => write!(f, "{i}"),
            Literal::Decimal(d) => write!(f, "{d}"),
            Literal::Money {
                amount,
                currency: None,
            } => {
                if amount.is_sign_negative() && !amount.is_zero() {
                    write!(f, "-${}", amount.abs())
                } else {
                    write!(f, "${}", amount.abs())
                }
            }
            Literal::Money {
                amount,
                currency: Some(code),
            } => write!(f, "{amount} {code}"),
            Literal::Percent(fraction) => match fraction.checked_mul(Decimal::ONE_HUNDRED) {
                Some(p) => write!(f, "{}%", p.normalize()),
                None => write!(f, "{fraction}"),
            },
            Literal::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Literal::Days(1) => f.write_str("1 day"),
            Literal::Days(n) => write!(f, "{n} days"),
            Literal::Text(s) => write_text(f, s),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}

impl Display for Each {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.binder.name, self.list)?;
        if let Some(filter) = &self.filter {
            write!(f, " where {filter}")?;
        }
        if let Some(body) = &self.body {
            write!(f, " : {body}")?;
        }
        Ok(())
    }
}

impl Display for Arg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Expr(e) => write!(f, "{e}"),
            Arg::Each(each) => write!(f, "{each}"),
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            ExprKind::Path(segments) => {
                for (i, s) in segments.iter().enumerate() {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    f.write_str(&s.name)?;
                }
                Ok(())
            }
            ExprKind::Unary(UnaryOp::Not, e) => write!(f, "(not {e})"),
            ExprKind::Unary(UnaryOp::Neg, e) => write!(f, "(-{e})"),
            ExprKind::Binary(op, l, r) => write!(f, "({l} {} {r})", op.as_str()),
            ExprKind::Call(call) => {
                write!(f, "{}(", call.function.name)?;
                for (i, a) in call.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for UnaryTest {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            UnaryTestKind::Compare(op, e) => write!(f, "{} {e}", op.as_str()),
            UnaryTestKind::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => write!(
                f,
                "{}{low}..{high}{}",
                if *low_inclusive { '[' } else { '(' },
                if *high_inclusive { ']' } else { ')' }
            ),
            UnaryTestKind::Equals(e) => write!(f, "{e}"),
        }
    }
}

impl Display for Cell {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            CellKind::Any => f.write_char('-'),
            CellKind::Tests { negated, tests } => {
                if *negated {
                    f.write_str("not(")?;
                }
                for (i, t) in tests.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                if *negated {
                    f.write_char(')')?;
                }
                Ok(())
            }
        }
    }
}

/// How tightly an expression binds when printed inside another (the parser's
/// Pratt table, loosest first): a child that binds looser than its place
/// needs brackets.
fn binding(e: &Expr) -> u8 {
    use super::ast::BinaryOp::*;
    match &e.kind {
        ExprKind::Binary(Or, ..) => 1,
        ExprKind::Binary(And, ..) => 2,
        ExprKind::Unary(UnaryOp::Not, _) => 3,
        ExprKind::Binary(op, ..) if op.is_comparison() => 4,
        ExprKind::Binary(Add | Sub, ..) => 5,
        ExprKind::Binary(..) => 6,
        ExprKind::Unary(UnaryOp::Neg, _) => 7,
        ExprKind::Literal(_) | ExprKind::Path(_) | ExprKind::Call(_) => 8,
    }
}

/// An expression as an analyst would write it: brackets only where the
/// precedence needs them, one space around operators, `", "` between
/// arguments. [`canonical_expr`] checks that it reads back as the same tree.
struct Readable<'a>(&'a Expr);

impl Readable<'_> {
    fn child(f: &mut Formatter<'_>, e: &Expr, bracket: bool) -> fmt::Result {
        if bracket {
            write!(f, "({})", Readable(e))
        } else {
            write!(f, "{}", Readable(e))
        }
    }
}

impl Display for Readable<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let own = binding(self.0);
        match &self.0.kind {
            ExprKind::Unary(UnaryOp::Not, e) => {
                f.write_str("not ")?;
                // `not a = b` is `not (a = b)`, but few readers would know: say it.
                Readable::child(f, e, binding(e) < 8)
            }
            ExprKind::Unary(UnaryOp::Neg, e) => {
                f.write_char('-')?;
                // `- -x` keeps its space: `--` would read the same, but no one writes it.
                if matches!(e.kind, ExprKind::Unary(UnaryOp::Neg, _)) {
                    f.write_char(' ')?;
                }
                Readable::child(f, e, binding(e) < own)
            }
            // Left-associative: an equal-binding child on the right needs brackets.
            ExprKind::Binary(op, l, r) => {
                Readable::child(f, l, binding(l) < own)?;
                write!(f, " {} ", op.as_str())?;
                Readable::child(f, r, binding(r) <= own)
            }
            ExprKind::Call(call) => {
                write!(f, "{}(", call.function.name)?;
                for (i, a) in call.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match a {
                        Arg::Expr(e) => write!(f, "{}", Readable(e))?,
                        Arg::Each(each) => {
                            write!(f, "{} in {}", each.binder.name, Readable(&each.list))?;
                            if let Some(filter) = &each.filter {
                                write!(f, " where {}", Readable(filter))?;
                            }
                            if let Some(body) = &each.body {
                                write!(f, " : {}", Readable(body))?;
                            }
                        }
                    }
                }
                f.write_char(')')
            }
            ExprKind::Literal(_) | ExprKind::Path(_) => write!(f, "{}", self.0),
        }
    }
}

/// A condition cell as an analyst would write it (see [`Readable`]).
struct ReadableCell<'a>(&'a Cell);

impl Display for ReadableCell<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let CellKind::Tests { negated, tests } = &self.0.kind else {
            return f.write_char('-');
        };
        if *negated {
            f.write_str("not(")?;
        }
        for (i, t) in tests.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match &t.kind {
                UnaryTestKind::Compare(op, e) => write!(f, "{} {}", op.as_str(), Readable(e))?,
                UnaryTestKind::Range {
                    low,
                    low_inclusive,
                    high,
                    high_inclusive,
                } => write!(
                    f,
                    "{}{}..{}{}",
                    if *low_inclusive { '[' } else { '(' },
                    Readable(low),
                    Readable(high),
                    if *high_inclusive { ']' } else { ')' }
                )?,
                UnaryTestKind::Equals(e) => write!(f, "{}", Readable(e))?,
            }
        }
        if *negated {
            f.write_char(')')?;
        }
        Ok(())
    }
}

/// The canonical text of an expression: with the fewest brackets when that
/// reads back as the same tree, else fully bracketed (which always does).
pub fn canonical_expr(e: &Expr) -> String {
    let readable = Readable(e).to_string();
    let same = super::parse_expr(&readable).is_ok_and(|back| back.to_string() == e.to_string());
    if same {
        readable
    } else {
        e.to_string()
    }
}

/// The canonical text of a condition cell (as [`canonical_expr`]).
pub fn canonical_cell(c: &Cell) -> String {
    let readable = ReadableCell(c).to_string();
    let same = super::parse_cell(&readable).is_ok_and(|back| back.to_string() == c.to_string());
    if same {
        readable
    } else {
        c.to_string()
    }
}
