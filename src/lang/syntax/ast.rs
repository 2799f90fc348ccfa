//! The typed syntax tree of the rule language. Every node carries the span of
//! the text it came from, relative to the start of the parsed string; the
//! loader shifts spans to file offsets.
//! It holds syntax only: no name is resolved and no type known here.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::source::Span;

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `account.arrears`, `sa.type`, `entry.category`, `as_of`: one or more segments.
    Path(Vec<Ident>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Call(Call),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub function: Ident,
    pub args: Vec<Arg>,
}

#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // built once per cell while checking, never stored in bulk
pub enum Arg {
    Expr(Expr),
    /// `sa in account.service_agreements where sa.arrears > $0 : sa.arrears`
    /// (the `where` filter and the `: body` part are both optional).
    Each(Each),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Each {
    pub binder: Ident,
    pub list: Expr,
    pub filter: Option<Expr>,
    pub body: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `5`
    Integer(i64),
    /// `5.25`
    Decimal(Decimal),
    /// `$5`, `$5.00`, `5.00 USD` (currency `None` for `$`, which means the schema's currency).
    Money {
        amount: Decimal,
        currency: Option<String>,
    },
    /// `10%`, stored as the fraction (0.10).
    Percent(Decimal),
    /// `2026-11-22`
    Date(NaiveDate),
    /// `3 days`, `1 day`
    Days(i64),
    /// `"text"`
    Text(String),
    Bool(bool),
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }
}

/// A condition cell of a decision table, tested against its column's input.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub kind: CellKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CellKind {
    /// `-` or an empty cell: matches every input, null included.
    Any,
    /// `t1, t2, ...`: matches when any test matches; `not(t1, t2)`: when none does.
    Tests {
        negated: bool,
        tests: Vec<UnaryTest>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnaryTest {
    pub kind: UnaryTestKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UnaryTestKind {
    /// `>= 5`, `< $5.00`, `!= "NY"`: the input compared with the expression.
    Compare(CompareOp, Expr),
    /// `[1..29]`, `(0..$100]`: `low_inclusive` is `[`, exclusive is `(`.
    Range {
        low: Expr,
        low_inclusive: bool,
        high: Expr,
        high_inclusive: bool,
    },
    /// A bare expression: the input equals it (`5`, `"CA"`, `true`, `arrears`, `null`).
    Equals(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}
