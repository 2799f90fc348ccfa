//! How the pipeline reads the tables for one account: an area's decision (its
//! rule refs, its outputs by `Out` column, a needed output that is null as an
//! error naming the row), snapshot fields by slot, and pushing an action with
//! its rule refs. It must not decide what an area's outputs mean.

use std::borrow::Cow;

use rust_decimal::Decimal;
use smallvec::{smallvec, SmallVec};

use super::{policy_error, Ctx, Result};
use crate::eval::Values;
use crate::eval::{Decision, Outcome, Tables};
use crate::lang::compile::{CompiledTable, Plan};
use crate::policy::action::{Action, ActionKind, Rules, Text};
use crate::policy::{Out, Role};
use crate::types::Value;

/// A record's field, read in place (null when the record has none).
pub(super) fn field(record: &Value, slot: usize) -> &Value {
    match record {
        Value::Record(fields) => fields.get(slot).unwrap_or(&Value::Null),
        _ => &Value::Null,
    }
}

pub(super) fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Text(t) => Some(t),
        _ => None,
    }
}

pub(super) fn money(v: &Value) -> Decimal {
    match v {
        Value::Dec(d) => *d,
        Value::Int(n) => Decimal::from(*n),
        _ => Decimal::ZERO,
    }
}

/// The rule refs of a decision: the rows that decided (`table:row`), or `table:default`.
/// Borrowed from the plan: no reference count is touched.
pub(super) fn rules_of<'p>(table: &'p CompiledTable, d: &Decision) -> Rules<'p> {
    let row = |r: &u32| Cow::Borrowed(&*table.row_refs[*r as usize]);
    match &d.outcome {
        Outcome::Default { .. } => smallvec![Cow::Borrowed(&*table.default_ref)],
        Outcome::Row { row: r, also, .. } => std::iter::once(r).chain(also).map(row).collect(),
        Outcome::Rows(rows) => rows.iter().map(|(r, _)| row(r)).collect(),
        Outcome::Aggregate { rows, .. } => rows.iter().map(row).collect(),
    }
}

/// The places of a `for_each` table's decisions in the evaluation: an
/// account's lists are short.
pub(super) type ItemDecisions = SmallVec<[usize; 8]>;

/// The single decision of a per-account table, if it was evaluated.
pub(super) fn single_decision<'t>(tables: &'t Tables<'_>, role: &Role) -> Option<&'t Decision> {
    tables
        .evaluation
        .decisions
        .iter()
        .find(|d| d.table == role.table && d.item.is_none())
}
impl<'p> Ctx<'p, '_> {
    pub(super) fn plan(&self) -> &Plan {
        &self.policy.plan
    }

    pub(super) fn table_name(&self, role: &Role) -> &str {
        &self.plan().tables[role.table as usize].table.name
    }

    /// Evaluates the role's table unless it already was (and the tables it reads).
    pub(super) fn require(&mut self, role: &Role) -> Result<()> {
        self.tables.require(role.table)
    }

    /// The single decision of a per-account table, once [`Ctx::require`]d; read
    /// in place, so the caller computes what it needs before pushing actions.
    pub(super) fn decision(&self, role: &Role) -> Option<&Decision> {
        single_decision(&self.tables, role)
    }

    /// Where the decisions of a `for_each` table are, in item order (evaluated
    /// if it was not yet): read each in place with [`Ctx::decision_at`], not
    /// copied. Decisions are only ever appended, so the places stay valid.
    pub(super) fn item_decisions(&mut self, role: &Role) -> Result<ItemDecisions> {
        self.require(role)?;
        Ok(self
            .tables
            .evaluation
            .decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.table == role.table && d.item.is_some())
            .map(|(i, _)| i)
            .collect())
    }

    /// The decision at a place [`Ctx::item_decisions`] gave.
    pub(super) fn decision_at(&self, at: usize) -> &Decision {
        &self.tables.evaluation.decisions[at]
    }

    pub(super) fn rules(&self, d: &Decision) -> Rules<'p> {
        rules_of(&self.policy.plan.tables[d.table as usize], d)
    }

    /// A row's or the default's values; none for a `collect` or an aggregate.
    fn values<'d>(&'d self, d: &'d Decision) -> &'d [Value] {
        match &d.outcome {
            Outcome::Row { .. } | Outcome::Default { .. } => self.plan().result(d),
            _ => &[],
        }
    }

    /// An output as text: text as is, an enum as its variant name; `None` for null
    /// (and for an optional column the table does not have).
    fn out_str<'d>(&'d self, role: &Role, d: &'d Decision, out: Out) -> Option<&'d str> {
        let i = role.col(out)?;
        let table = &self.plan().tables[role.table as usize].table;
        match self.values(d).get(i)? {
            Value::Text(t) => Some(t),
            Value::Enum(v) => match &table.outputs[i].ty {
                crate::types::Type::Enum(e) => {
                    Some(&self.plan().schema().enum_def(*e).variants[*v as usize])
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub(super) fn out_text(&self, role: &Role, d: &Decision, out: Out) -> Option<String> {
        self.out_str(role, d, out).map(str::to_string)
    }

    /// [`Ctx::out_text`] borrowed from the policy when it is one of its strings
    /// (an enum's variant, a row's constant text); copied only when computed.
    pub(super) fn out_borrowed(&self, role: &Role, d: &Decision, out: Out) -> Option<Text<'p>> {
        let plan = &self.policy.plan;
        let i = role.col(out)?;
        let variant = |v: u32| match &plan.tables[role.table as usize].table.outputs[i].ty {
            crate::types::Type::Enum(e) => Some(Cow::Borrowed(
                &*plan.schema().enum_def(*e).variants[v as usize],
            )),
            _ => None,
        };
        let constants = &plan.constants[d.table as usize];
        let constant = match &d.outcome {
            Outcome::Row {
                row,
                values: Values::Constant,
                ..
            } => constants.rows.get(*row as usize).and_then(Option::as_deref),
            Outcome::Default {
                values: Values::Constant,
            } => constants.default.as_deref(),
            _ => None,
        };
        match constant {
            Some(values) => match values.get(i)? {
                Value::Text(t) => Some(Cow::Borrowed(&**t)),
                Value::Enum(v) => variant(*v),
                _ => None,
            },
            None => match self.values(d).get(i)? {
                Value::Text(t) => Some(Cow::Owned(t.to_string())),
                Value::Enum(v) => variant(*v),
                _ => None,
            },
        }
    }

    /// An output the area needs, as text borrowed as [`Ctx::out_borrowed`] is.
    pub(super) fn need_text(&self, role: &Role, d: &Decision, out: Out) -> Result<Text<'p>> {
        self.need(role, d, out)?;
        Ok(self.out_borrowed(role, d, out).unwrap_or_default())
    }

    /// An output the area needs: null is an error naming the row that gave it,
    /// never a default.
    fn need<'d>(&'d self, role: &Role, d: &'d Decision, out: Out) -> Result<&'d Value> {
        match role.col(out).and_then(|i| self.values(d).get(i)) {
            Some(Value::Null) | None => Err(policy_error(
                self.table_name(role),
                format!(
                    "`{}` gave a null `{}`",
                    self.rules(d).join(", "),
                    out.name()
                ),
            )),
            Some(v) => Ok(v),
        }
    }

    pub(super) fn need_bool(&self, role: &Role, d: &Decision, out: Out) -> Result<bool> {
        Ok(*self.need(role, d, out)? == Value::Bool(true))
    }

    pub(super) fn need_int(&self, role: &Role, d: &Decision, out: Out) -> Result<i64> {
        match self.need(role, d, out)? {
            Value::Int(n) => Ok(*n),
            _ => Ok(0),
        }
    }

    pub(super) fn need_money(&self, role: &Role, d: &Decision, out: Out) -> Result<Decimal> {
        Ok(money(self.need(role, d, out)?))
    }

    /// The variant index of an enum output the area needs.
    pub(super) fn need_variant(&self, role: &Role, d: &Decision, out: Out) -> Result<usize> {
        match self.need(role, d, out)? {
            Value::Enum(v) => Ok(*v as usize),
            _ => Ok(0),
        }
    }

    pub(super) fn out(&self, role: &Role, d: &Decision, out: Out) -> Value {
        role.col(out)
            .and_then(|i| self.values(d).get(i).cloned())
            .unwrap_or_default()
    }

    pub(super) fn push(&mut self, kind: ActionKind<'p>, rules: Rules<'p>) {
        self.actions.push(Action { kind, rules });
    }
}

/// A list's items, read in place (none for null).
pub(super) fn list(v: &Value) -> &[Value] {
    match v {
        Value::List(items) => items,
        _ => &[],
    }
}
