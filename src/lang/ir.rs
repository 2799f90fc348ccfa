//! The checked program: every name resolved to a slot, every node typed.
//! Produced by `check`, lowered by `compile`. A checked program cannot fail at
//! evaluation for type reasons.
//! It holds data only: no checking, evaluating or printing.

use std::sync::Arc;

use crate::lang::syntax::ast::{CompareOp, UnaryOp};
use crate::source::{SourceFile, Span};
use crate::types::{Type, Value};

#[derive(Clone, Debug)]
pub struct TExpr {
    pub kind: TExprKind,
    pub ty: Type,
}

#[derive(Clone, Debug)]
pub enum TExprKind {
    Const(Value),
    /// The account record.
    Account,
    AsOf,
    /// A variable bound by `sa in list`.
    Local(u32),
    /// An input column of the table being evaluated.
    Input(u32),
    /// An output of a table evaluated earlier.
    TableOutput {
        table: u32,
        output: u32,
    },
    /// A field of a record.
    Field(Box<TExpr>, u32),
    /// A field of every record of a list: `account.service_agreements.arrears`.
    Project(Box<TExpr>, u32),
    Unary(UnaryOp, Box<TExpr>),
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    Call(Builtin, Vec<TExpr>),
    Each(Box<EachExpr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Compare(CompareOp),
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Min,
    Max,
    Abs,
    Round,
    DaysBetween,
    Any,
    All,
    Count,
    Sum,
    MonthDay,
    NextMonthDay,
    StartsWith,
}

impl Builtin {
    pub const ALL: [(&'static str, Builtin); 12] = [
        ("min", Builtin::Min),
        ("max", Builtin::Max),
        ("abs", Builtin::Abs),
        ("round", Builtin::Round),
        ("days_between", Builtin::DaysBetween),
        ("any", Builtin::Any),
        ("all", Builtin::All),
        ("count", Builtin::Count),
        ("sum", Builtin::Sum),
        ("month_day", Builtin::MonthDay),
        ("next_month_day", Builtin::NextMonthDay),
        ("starts_with", Builtin::StartsWith),
    ];

    pub fn from_name(name: &str) -> Option<Builtin> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }
}

/// `f(x in list where filter : body)`.
#[derive(Clone, Debug)]
pub struct EachExpr {
    pub function: Builtin,
    pub local: u32,
    pub list: TExpr,
    pub filter: Option<TExpr>,
    pub body: Option<TExpr>,
}

#[derive(Clone, Debug)]
pub struct TCell {
    pub negated: bool,
    /// Empty (and not negated) means the cell matches anything.
    pub tests: Vec<TTest>,
    /// The cell as written, for traces.
    pub text: String,
    /// Where the cell is written (the row's span when the row leaves it out).
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TTest {
    Compare(CompareOp, TExpr),
    Range {
        low: TExpr,
        low_inclusive: bool,
        high: TExpr,
        high_inclusive: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitPolicy {
    First,
    Unique,
    Priority,
    Any,
    Collect,
    RuleOrder,
}

impl HitPolicy {
    pub const ALL: [(&'static str, HitPolicy); 6] = [
        ("first", HitPolicy::First),
        ("unique", HitPolicy::Unique),
        ("priority", HitPolicy::Priority),
        ("any", HitPolicy::Any),
        ("collect", HitPolicy::Collect),
        ("rule_order", HitPolicy::RuleOrder),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, h)| *h == self)
            .map_or("?", |(n, _)| n)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
    Count,
}

impl Aggregate {
    pub const ALL: [(&'static str, Aggregate); 4] = [
        ("sum", Aggregate::Sum),
        ("min", Aggregate::Min),
        ("max", Aggregate::Max),
        ("count", Aggregate::Count),
    ];
}

#[derive(Clone, Debug)]
pub struct Input {
    pub name: String,
    pub expr: TExpr,
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub name: String,
    pub ty: Type,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    /// Where the id is written.
    pub id_span: Span,
    pub description: Option<String>,
    /// One cell per input, in input order.
    pub cells: Vec<TCell>,
    /// One expression per output, in output order.
    pub outputs: Vec<TExpr>,
    /// Where each output's cell is written (the row's span for one it leaves out).
    pub output_spans: Vec<Span>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub description: Option<String>,
    pub file: Arc<SourceFile>,
    pub span: Span,
    pub hit: HitPolicy,
    pub aggregate: Option<Aggregate>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    pub rows: Vec<Row>,
    pub default: Option<Vec<TExpr>>,
    /// Where each output of the `default` is written (its key's span for one it leaves out).
    pub default_spans: Vec<Span>,
    /// For `priority`: the output whose enum order ranks matching rows.
    pub priority_output: Option<u32>,
    /// Values the caller provides (locals `0..params.len()`), e.g. `promise` for a follow-up table.
    pub params: Vec<(String, Type)>,
    /// `sa in account.service_agreements`: the table runs once per item; the item is
    /// the local right after the params.
    pub for_each: Option<ForEach>,
}

#[derive(Clone, Debug)]
pub struct ForEach {
    pub binder: String,
    pub list: TExpr,
}

impl Table {
    /// Row `r`'s output `o` as its file writes it, when that is a percent
    /// (`2%`): the value is the fraction (0.02), which is not what the
    /// analyst wrote, so what shows the rules (the site, `dry-run`) shows this.
    pub fn written_percent(&self, r: usize, o: usize) -> Option<String> {
        let row = self.rows.get(r)?;
        let span = *row.output_spans.get(o)?;
        if span == row.span {
            return None;
        }
        self.percent_at(span)
    }

    /// The default's output `o` as its file writes it, when that is a percent:
    /// as [`Table::written_percent`] for a row.
    pub fn default_written_percent(&self, o: usize) -> Option<String> {
        self.percent_at(*self.default_spans.get(o)?)
    }

    /// The cell at `span` when it is a percent literal (`2%`), as written.
    fn percent_at(&self, span: Span) -> Option<String> {
        use crate::lang::syntax::ast::{ExprKind, Literal};
        let text = self.file.text.get(span.start..span.end)?.trim();
        if !text.ends_with('%') {
            return None;
        }
        match crate::lang::syntax::parse_expr(text).ok()?.kind {
            ExprKind::Literal(percent @ Literal::Percent(_)) => Some(percent.to_string()),
            _ => None,
        }
    }

    /// Whether the table gives one result other tables can refer to.
    pub fn is_single_result(&self) -> bool {
        self.hit != HitPolicy::RuleOrder
            && (self.hit != HitPolicy::Collect || self.aggregate.is_some())
    }

    /// The names and types other tables see as `table.<name>`.
    pub fn result_columns(&self) -> std::borrow::Cow<'_, [Output]> {
        match (self.hit, self.aggregate) {
            (HitPolicy::Collect, Some(Aggregate::Count)) => std::borrow::Cow::Owned(vec![Output {
                name: "count".into(),
                ty: Type::Integer,
            }]),
            _ => std::borrow::Cow::Borrowed(&self.outputs),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Program {
    pub schema: Arc<crate::data::schema::Schema>,
    pub tables: Vec<Table>,
    /// Table indices in evaluation order: every table after those it refers to.
    pub order: Vec<u32>,
    /// Per table, the tables whose outputs it reads (ascending, no repeats).
    pub deps: Vec<Vec<u32>>,
}
