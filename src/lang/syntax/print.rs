//! Canonical printing: every `Display` here produces source text that parses
//! back to the same tree (modulo spans). Binary and unary operations are fully
//! parenthesised so precedence never matters when re-reading.
//! It must not print anything lossy: print then parse is the identity.

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
