//! The invariants a guard-rail pack states (`never: {when, action}`), proved
//! over the whole policy by `arrears lint`. The pack runs last on every
//! proposal, so an invariant holds when, for each forbidden action type, one
//! guard table stops it (withhold, cancel, a rechannel out of the forbidden
//! set, or a postpone: an action that is not an event cannot wait and is
//! withheld, an event is asked about again on its new day) at every point of
//! its input space where `when` holds, first hit respected: decided on the
//! table's boxes with the coverage search. A condition is an input's
//! expression (or its negation), or that expression compared with a constant,
//! tested against the input's values. A region left open is a candidate only:
//! it becomes `invariant-violated` when an account built from it (on the
//! rules' own test accounts) really gets the forbidden action while `when`
//! holds of it, from `policy::run` or as a pending event the case system
//! carries out that day (the account's own, or one of the action's type added
//! to its open case, as a case opened before the condition arose carries);
//! otherwise the invariant is `invariant-undecided`,
//! never proven. It must not change what the run does.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value as Json;

use super::bits::Bits;
use super::search::{OverBudget, Search};
use super::space::{build_space, Bound, Layout, Space};
pub use super::{Proofs, Violation};
use super::{LEAF_BUDGET, PAIR_BUDGET};
use crate::data::schema::{Schema, ACCOUNT, EVENT_TYPES};
use crate::diagnostic::Diagnostic;
use crate::lang::ir::{TExpr, TExprKind, Table};
use crate::lang::syntax::ast::{Arg, BinaryOp, CompareOp, Expr, ExprKind, Literal, UnaryOp};
use crate::lang::syntax::{canonical_expr, parse_expr};
use crate::model::doc::InvariantDoc;
use crate::model::effective::Period;
use crate::model::spanned::Spanned;
use crate::policy::action::ActionKind;
use crate::policy::case::Channel;
use crate::policy::Policy;
use crate::source::SourceFile;
use crate::types::{Type, Value};

/// An account to build counterexamples on (a rules test's), and its `as_of`.
#[derive(Clone, Debug)]
pub struct Seed {
    pub account: Json,
    pub as_of: NaiveDate,
    /// The test's own day, when the account was moved from it (`seeds_in`).
    pub moved_from: Option<NaiveDate>,
}

/// The seeds to prove a rule set in force over `periods` on: those whose day
/// lies in one as they are, then the others moved, every date of the account
/// with them, to the nearest day of one, so that a counterexample is dated on a
/// day these rules are in force (a rules test's day may be another set's).
pub fn seeds_in(seeds: &[Seed], periods: &[Period]) -> Vec<Seed> {
    let inside = |d: NaiveDate| periods.iter().any(|p| p.contains(d));
    let nearest = |d: NaiveDate| {
        periods
            .iter()
            .map(|p| p.nearest(d))
            .min_by_key(|n| (*n - d).num_days().abs())
    };
    let (mut kept, moved): (Vec<Seed>, Vec<Seed>) =
        seeds.iter().cloned().partition(|s| inside(s.as_of));
    kept.extend(moved.into_iter().filter_map(|s| {
        let day = nearest(s.as_of)?;
        let mut account = s.account;
        shift_dates(&mut account, day - s.as_of);
        Some(Seed {
            account,
            as_of: day,
            moved_from: Some(s.as_of),
        })
    }));
    kept
}

/// Moves every date (`YYYY-MM-DD` text) of `value` by `by`.
fn shift_dates(value: &mut Json, by: chrono::Duration) {
    match value {
        Json::String(text) => {
            if let Some(moved) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .filter(|d| d.to_string() == *text)
                .and_then(|d| d.checked_add_signed(by))
            {
                *text = moved.to_string();
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|v| shift_dates(v, by)),
        Json::Object(map) => map.values_mut().for_each(|v| shift_dates(v, by)),
        _ => {}
    }
}

/// One condition of `when`: an input's expression, asserted or negated; or
/// an input's expression compared with a constant (`calls >= 7`,
/// `account.jurisdiction != GB`), tested against that input's values.
struct Condition {
    canonical: String,
    negated: bool,
    compared: Option<Compared>,
}

/// `INPUT OP CONSTANT`: the input's expression (canonical), the operator and
/// the constant as written (resolved against the input's type).
struct Compared {
    input: String,
    op: CompareOp,
    constant: Expr,
}

enum Outcome {
    Proven,
    /// The forbidden action, the account that gets it (JSON), the rules that
    /// made it, the day, the pending event that went out (no rule made it),
    /// and the rules test's own day when the account was moved from it.
    Violated(
        String,
        Json,
        Vec<String>,
        NaiveDate,
        Option<String>,
        Option<NaiveDate>,
    ),
    Undecided(String),
}

/// Proves every invariant of `invariants` over `policy`.
pub fn prove_all(
    policy: &Policy,
    invariants: &[(Arc<SourceFile>, String, Spanned<InvariantDoc>)],
    seeds: &[Seed],
) -> Proofs {
    let mut out = Vec::new();
    let mut violations = Vec::new();
    let mut proven = 0;
    for (file, pack, doc) in invariants {
        let never = &doc.value.never.value;
        let span = never.when.span;
        let at = |code: &'static str, message: String| match code {
            "invariant-violated" | "invalid-invariant" => {
                Diagnostic::error(code, file, span, message)
            }
            _ => Diagnostic::warning(code, file, span, message),
        };
        let when_text = never.when.value.0.as_str();
        let conditions = match conditions(when_text) {
            Ok(c) => c,
            Err(e) => {
                out.push(at(
                    "invalid-invariant",
                    format!("`when` of an invariant of `{pack}`: {e}"),
                ));
                continue;
            }
        };
        // Names and types were checked with the policy (`policy::documents`).
        let actions: Vec<String> = never.action.iter().map(|a| a.value.clone()).collect();
        let schema = &policy.plan.program.schema;
        let locals = [(
            "action".to_string(),
            Type::Record(schema.guard_action_record),
        )];
        let (typed, _) = crate::lang::check::standalone_expression(
            schema,
            file,
            &never.when,
            &locals,
            &Type::Bool,
        );
        let when = Stated {
            conditions: &conditions,
            typed: typed.as_ref(),
        };
        match prove(policy, &when, &actions, seeds) {
            Outcome::Proven => proven += 1,
            Outcome::Violated(action, account, rules, as_of, pending, moved_from) => {
                violations.push(Violation {
                    pack: pack.clone(),
                    action: action.clone(),
                    account: account.clone(),
                    as_of,
                    pending,
                    diagnostic: out.len(),
                });
                out.push(at(
                    "invariant-violated",
                    format!(
                        "invariant `never {action} when {when_text}` of `{pack}` is violated: this account gets `{action}` on {as_of}{} through {}: {}",
                        moved_from.map_or(String::new(), |d| format!(" (a rules test's account of {d}, its dates moved with it into these rules' period)")),
                        if rules.is_empty() { "no rule".to_string() } else { rules.join(" → ") },
                        account
                    ),
                )
                .with_help("add a guard row that withholds or cancels the action while the condition holds"),
            )
            }
            Outcome::Undecided(why) => out.push(at(
                "invariant-undecided",
                format!(
                    "invariant `never {} when {when_text}` of `{pack}` cannot be decided: {why}",
                    actions.join(", ")
                ),
            )),
        }
    }
    if let Some((file, _, doc)) = invariants.first() {
        out.push(Diagnostic::info(
            "invariants-proven",
            file,
            doc.value.never.value.when.span,
            format!(
                "{proven} of {} guard-rail invariants proven",
                invariants.len()
            ),
        ));
    }
    Proofs {
        diagnostics: out,
        violations,
    }
}

/// `a and not(b) and c` → its conditions, each in canonical form.
fn conditions(when: &str) -> Result<Vec<Condition>, String> {
    let expr = parse_expr(when).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    split(&expr, &mut out);
    Ok(out)
}

fn split(e: &Expr, out: &mut Vec<Condition>) {
    match &e.kind {
        ExprKind::Binary(BinaryOp::And, a, b) => {
            split(a, out);
            split(b, out);
        }
        ExprKind::Unary(UnaryOp::Not, inner) => out.push(condition(inner, true)),
        ExprKind::Call(call) if call.function.name == "not" && call.args.len() == 1 => {
            match &call.args[0] {
                Arg::Expr(inner) => out.push(condition(inner, true)),
                Arg::Each(_) => out.push(condition(e, false)),
            }
        }
        _ => out.push(condition(e, false)),
    }
}

/// One condition; a comparison of an expression with a constant (a literal
/// or a bare word, an enum variant) also says which.
fn condition(e: &Expr, negated: bool) -> Condition {
    let is_constant = |x: &Expr| match &x.kind {
        ExprKind::Literal(_) => true,
        ExprKind::Path(p) => p.len() == 1 && p[0].name != "as_of",
        _ => false,
    };
    let compared = match &e.kind {
        ExprKind::Binary(op, a, b) => {
            let op = compare_op(*op);
            match (op, is_constant(a), is_constant(b)) {
                (Some(op), false, true) => Some(Compared {
                    input: canonical_expr(a),
                    op,
                    constant: (**b).clone(),
                }),
                (Some(op), true, false) => Some(Compared {
                    input: canonical_expr(b),
                    op: match op {
                        CompareOp::Lt => CompareOp::Gt,
                        CompareOp::Le => CompareOp::Ge,
                        CompareOp::Gt => CompareOp::Lt,
                        CompareOp::Ge => CompareOp::Le,
                        op => op,
                    },
                    constant: (**a).clone(),
                }),
                _ => None,
            }
        }
        _ => None,
    };
    Condition {
        canonical: canonical_expr(e),
        negated,
        compared,
    }
}

fn compare_op(op: BinaryOp) -> Option<CompareOp> {
    Some(match op {
        BinaryOp::Eq => CompareOp::Eq,
        BinaryOp::Ne => CompareOp::Ne,
        BinaryOp::Lt => CompareOp::Lt,
        BinaryOp::Le => CompareOp::Le,
        BinaryOp::Gt => CompareOp::Gt,
        BinaryOp::Ge => CompareOp::Ge,
        _ => return None,
    })
}

/// The constant of a comparison as a value of `ty`, the input's type
/// (`None`: not one it can be compared with).
fn constant_of(schema: &Schema, ty: &Type, e: &Expr) -> Option<Value> {
    Some(match (&e.kind, ty) {
        (ExprKind::Path(p), Type::Enum(id)) => Value::Enum(schema.variant(*id, &p[0].name)?),
        (ExprKind::Literal(Literal::Text(t)), Type::Enum(id)) => {
            Value::Enum(schema.variant(*id, t)?)
        }
        (ExprKind::Literal(Literal::Text(t)), Type::Text) => Value::Text(t.as_str().into()),
        (ExprKind::Literal(Literal::Integer(i)), Type::Integer) => Value::Int(*i),
        (ExprKind::Literal(Literal::Days(i)), Type::Days) => Value::Int(*i),
        (ExprKind::Literal(Literal::Integer(i)), Type::Decimal | Type::Money) => {
            Value::Dec((*i).into())
        }
        (ExprKind::Literal(Literal::Decimal(d)), Type::Decimal | Type::Money) => Value::Dec(*d),
        (ExprKind::Literal(Literal::Money { amount, .. }), Type::Money) => Value::Dec(*amount),
        (ExprKind::Literal(Literal::Date(d)), Type::Date) => Value::Date(*d),
        (ExprKind::Literal(Literal::Bool(b)), Type::Bool) => Value::Bool(*b),
        _ => return None,
    })
}

fn canonical_text(text: &str) -> Option<String> {
    parse_expr(text).ok().map(|e| canonical_expr(&e))
}

/// An invariant's `when`: its conditions, and the whole expression checked
/// (`None` if it did not check: then no counterexample is confirmed).
struct Stated<'a> {
    conditions: &'a [Condition],
    typed: Option<&'a TExpr>,
}

fn prove(policy: &Policy, stated: &Stated, actions: &[String], seeds: &[Seed]) -> Outcome {
    let when = stated.conditions;
    let program = &policy.plan.program;
    let schema = &program.schema;
    let mut why = Vec::new();
    let mut candidates: Vec<(String, usize, Vec<usize>)> = Vec::new();
    for action in actions {
        let mut proven = false;
        for role in &policy.roles.guards {
            let table = &program.tables[role.table as usize];
            match stops(schema, table, when, action, actions) {
                Ok(None) => {
                    proven = true;
                    break;
                }
                Ok(Some(point)) => candidates.push((action.clone(), role.table as usize, point)),
                Err(e) => {
                    // One reason per table, not one per forbidden action.
                    let reason = format!("`{}`: {e}", table.name);
                    if !why.contains(&reason) {
                        why.push(reason);
                    }
                }
            }
        }
        if !proven {
            if let Some(v) = confirm(policy, stated, action, &candidates, seeds) {
                return v;
            }
            why.push(format!(
                "no guard rail stops `{action}` everywhere the condition holds, and no account built from the rules' tests gets it"
            ));
            return Outcome::Undecided(why.join("; "));
        }
    }
    Outcome::Proven
}

/// Whether `table` stops `action` wherever `when` holds: `None` when it does,
/// else a point of its input space where it may not.
fn stops(
    schema: &Schema,
    table: &Table,
    when: &[Condition],
    action: &str,
    forbidden: &[String],
) -> Result<Option<Vec<usize>>, String> {
    if !matches!(table.hit, crate::lang::ir::HitPolicy::First) {
        return Err("not a `first` table".into());
    }
    let space = build_space(schema, &with_cuts(schema, table, when))
        .map_err(|_| "too large to analyse".to_string())?;
    let region = restrict(schema, table, &space, when, action)?;
    if region.iter().any(Bits::is_empty) {
        return Ok(None);
    }
    let effect = table.outputs.iter().position(|o| o.name == "effect");
    let channel = table.outputs.iter().position(|o| o.name == "channel");
    let Some(effect) = effect else {
        return Err("no `effect` output".into());
    };
    let stopping = |outputs: &[TExpr]| -> bool {
        let variant = |e: &TExpr| match &e.kind {
            TExprKind::Const(Value::Enum(i)) => match e.ty {
                crate::types::Type::Enum(id) => {
                    schema.enum_def(id).variants.get(*i as usize).cloned()
                }
                _ => None,
            },
            TExprKind::Const(Value::Text(t)) => Some(t.to_string()),
            _ => None,
        };
        match variant(&outputs[effect]).as_deref() {
            Some("withhold" | "cancel") => true,
            // A nomination or plan offer cannot wait for a later day: the
            // pipeline withholds what a rail postpones (`policy::run::guard`).
            // An event moves, and every rail is asked again for its new day
            // (at most 400 days, then it is withheld): this rail stops it
            // again on any day the condition still holds, so it never goes
            // out on one.
            Some("postpone") => true,
            Some("rechannel") => channel
                .and_then(|c| variant(&outputs[c]))
                .is_some_and(|to| !forbidden.iter().any(|f| f == Channel::event_type_of(&to))),
            _ => false,
        }
    };
    let mut search = Search {
        space: &space,
        leaves: LEAF_BUDGET,
        pairs: PAIR_BUDGET,
    };
    let over = |_: OverBudget| "the coverage search ran out of budget".to_string();
    let mut stoppers = Vec::new();
    for (r, row) in table.rows.iter().enumerate() {
        if stopping(&row.outputs) {
            stoppers.push(r);
            continue;
        }
        // A row that lets the action through: every point of it inside the
        // region must be taken by an earlier stopping row.
        let within: Vec<Bits> = region
            .iter()
            .zip(space.boxes(Bound::May, r))
            .map(|(a, b)| {
                let mut c = a.clone();
                c.intersect_with(b);
                c
            })
            .collect();
        if within.iter().any(Bits::is_empty) {
            continue;
        }
        let mut open = Vec::new();
        search
            .uncovered(&within, &stoppers, Bound::Must, 1, &mut open)
            .map_err(over)?;
        if let Some(gap) = open.first() {
            return Ok(Some(super::search::first_point(gap)));
        }
    }
    if table.default.as_deref().is_some_and(stopping) {
        return Ok(None);
    }
    let mut open = Vec::new();
    search
        .uncovered(&region, &stoppers, Bound::Must, 1, &mut open)
        .map_err(over)?;
    Ok(open.first().map(|g| super::search::first_point(g)))
}

/// `table` with a row per compared condition after its own, whose cell on
/// the compared input is the comparison: its ends become cut points of that
/// column, so every piece lies wholly on one side of it. The rows are never
/// asked ([`stops`] walks the table's own rows).
fn with_cuts(schema: &Schema, table: &Table, when: &[Condition]) -> Table {
    let mut cut = table.clone();
    for cond in when {
        let Some(c) = &cond.compared else { continue };
        for (i, input) in table.inputs.iter().enumerate() {
            if canonical_text(&input.text).as_deref() != Some(c.input.as_str()) {
                continue;
            }
            let Some(value) = constant_of(schema, &input.expr.ty, &c.constant) else {
                continue;
            };
            let Some(template) = table.rows.first() else {
                continue;
            };
            let mut row = template.clone();
            for cell in &mut row.cells {
                cell.negated = false;
                cell.tests.clear();
            }
            row.cells[i].tests = vec![crate::lang::ir::TTest::Compare(
                c.op,
                TExpr {
                    kind: TExprKind::Const(value),
                    ty: input.expr.ty.clone(),
                },
            )];
            cut.rows.push(row);
        }
    }
    cut
}

/// The table's input space narrowed to `when` and the action type: an input
/// whose expression is a condition of `when` is true (false or null when
/// negated); one that reads only the action's type and channel takes its value.
fn restrict(
    schema: &Schema,
    table: &Table,
    space: &Space,
    when: &[Condition],
    action: &str,
) -> Result<Vec<Bits>, String> {
    let record = action_record(schema, action);
    let mut matched = vec![false; when.len()];
    let mut region = Vec::new();
    for (input, col) in table.inputs.iter().zip(&space.cols) {
        let n = col.shown.len();
        let mut bits = Bits::full(n);
        let finite = matches!(col.layout, Layout::Finite { .. }) && !col.whole;
        let text = canonical_text(&input.text);
        let keep = |want: &dyn Fn(&Option<Value>, bool) -> bool| {
            let mut b = Bits::new(n);
            for p in 0..n {
                if want(&col.values[p], col.null && p + 1 == n) {
                    b.set(p);
                }
            }
            b
        };
        for (k, cond) in when.iter().enumerate() {
            let compared = cond
                .compared
                .as_ref()
                .filter(|c| text.as_deref() == Some(c.input.as_str()));
            if let Some(c) = compared {
                matched[k] = true;
                bits.intersect_with(&compared_pieces(schema, input, col, c, cond.negated)?);
                continue;
            }
            if text.as_deref() == Some(cond.canonical.as_str()) {
                matched[k] = true;
                if finite {
                    let negated = cond.negated;
                    bits.intersect_with(&keep(&|v, null| {
                        if negated {
                            null || !matches!(v, Some(Value::Bool(true)))
                        } else {
                            matches!(v, Some(Value::Bool(true)))
                        }
                    }));
                }
            }
        }
        if finite && reads_only_action_kind(&input.expr) {
            if let Ok(v) = crate::lang::semantics::eval_standalone(
                &input.expr,
                &Value::Null,
                NaiveDate::MIN,
                std::slice::from_ref(&record),
            ) {
                bits.intersect_with(&keep(&|p, null| match &v {
                    Value::Null => null,
                    v => p.as_ref() == Some(v),
                }));
            }
        }
        region.push(bits);
    }
    if let Some(k) = matched.iter().position(|m| !m) {
        return Err(format!(
            "no input of the table is the condition `{}`",
            when[k].canonical
        ));
    }
    Ok(region)
}

/// The pieces of `col` (input `input`'s column, cut at the constant by
/// [`with_cuts`]) where `INPUT OP CONSTANT` holds (fails or is null when
/// negated): each piece lies wholly on one side, so its value decides it.
fn compared_pieces(
    schema: &Schema,
    input: &crate::lang::ir::Input,
    col: &super::space::Column,
    c: &Compared,
    negated: bool,
) -> Result<Bits, String> {
    let n = col.shown.len();
    let undecided = || {
        format!(
            "`{} {} {}` cannot be tested against the input `{}`'s values",
            c.input,
            c.op.as_str(),
            canonical_expr(&c.constant),
            input.name
        )
    };
    let constant = constant_of(schema, &input.expr.ty, &c.constant).ok_or_else(undecided)?;
    let exact = match &col.layout {
        _ if col.whole => false,
        Layout::Ordered { .. } => true,
        // A text column's "other" piece holds many texts: only (in)equality
        // with one of its literals is decided.
        Layout::Finite { other_text } => {
            !*other_text
                || (matches!(c.op, CompareOp::Eq | CompareOp::Ne)
                    && col.values.iter().any(|v| v.as_ref() == Some(&constant)))
        }
        Layout::Opaque => false,
    };
    if !exact {
        return Err(undecided());
    }
    let mut bits = Bits::new(n);
    for p in 0..n {
        let value = match (&col.values[p], col.null && p + 1 == n) {
            (_, true) => Value::Null,
            (Some(v), false) => v.clone(),
            (None, false) => return Err(undecided()),
        };
        let holds = crate::lang::semantics::compare(c.op, &value, &constant);
        if holds != negated {
            bits.set(p);
        }
    }
    Ok(bits)
}

/// The built-in `action` record of a proposal of type `action` (date, time and event unknown).
fn action_record(schema: &Schema, action: &str) -> Value {
    let variant = |e: &str, n: &str| schema.enum_by_name(e).and_then(|e| schema.variant(e, n));
    let kind = variant("guarded_action", action).map_or(Value::Null, Value::Enum);
    let channel = Channel::of_event(action)
        .and_then(|c| variant("contact_channel", c.name()))
        .map_or(Value::Null, Value::Enum);
    Value::Record(
        vec![
            kind,
            channel,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ]
        .into(),
    )
}

/// The `action` record of a proposal the run made: its type, channel, event
/// id, day and time, not pending (as `policy::run::guard` asks the rails).
fn action_record_of(
    schema: &Schema,
    action: &str,
    event: Option<&str>,
    date: NaiveDate,
    time: Option<&str>,
) -> Value {
    let Value::Record(fields) = action_record(schema, action) else {
        return Value::Null;
    };
    let mut fields = fields.to_vec();
    fields[2] = event.map_or(Value::Null, |e| Value::Text(e.into()));
    fields[3] = Value::Date(date);
    fields[4] = time.map_or(Value::Null, |t| Value::Text(t.into()));
    fields[5] = Value::Bool(false);
    Value::Record(fields.into())
}

/// Whether `e` reads nothing but `action.type` and `action.channel` (fields 0 and 1 of the param).
fn reads_only_action_kind(e: &TExpr) -> bool {
    match &e.kind {
        TExprKind::Const(_) => true,
        TExprKind::Field(base, slot) => matches!(base.kind, TExprKind::Local(0)) && *slot <= 1,
        TExprKind::Unary(_, a) => reads_only_action_kind(a),
        TExprKind::Binary(_, a, b) => reads_only_action_kind(a) && reads_only_action_kind(b),
        _ => false,
    }
}

/// Tries each seed with the conditions of `when` that are plain account
/// fields set true (false when negated) and the open point's plain-path
/// inputs set; the first that `policy::run` gives `action` while `when`
/// holds of it (evaluated on the account and that action) is the
/// counterexample. A condition that is not a plain field (a count of the
/// account's contacts) holds only if the seed makes it hold.
fn confirm(
    policy: &Policy,
    stated: &Stated,
    action: &str,
    candidates: &[(String, usize, Vec<usize>)],
    seeds: &[Seed],
) -> Option<Outcome> {
    let program = &policy.plan.program;
    let schema = &program.schema;
    let typed = stated.typed?;
    let paths: Vec<(Vec<String>, bool)> = stated
        .conditions
        .iter()
        .filter(|c| c.compared.is_none())
        .filter_map(|c| {
            let segments = c.canonical.strip_prefix("account.")?;
            segments
                .split('.')
                .all(|s| s.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
                .then(|| (segments.split('.').map(String::from).collect(), !c.negated))
        })
        .collect();
    for seed in seeds {
        for (_, t, point) in candidates.iter().filter(|(a, _, _)| a == action) {
            let table = &program.tables[*t];
            let Ok(space) = build_space(schema, table) else {
                continue;
            };
            let mut account = seed.account.clone();
            for (c, v) in space.point_values(point) {
                if let Some(path) = plain_path(schema, &table.inputs[c].expr) {
                    set(
                        &mut account,
                        &path,
                        super::counterexample::json_of(schema, &table.inputs[c].expr.ty, &v),
                    );
                }
            }
            for (path, value) in &paths {
                set(&mut account, path, Json::Bool(*value));
            }
            // As built, then (for an event type) with such an event pending in its open case,
            // as a case opened before the condition arose carries one.
            let pending = with_pending_event(policy, &account, action, seed.as_of);
            for account in std::iter::once(account).chain(pending) {
                if let Some(mut v) = violation(policy, typed, action, account, seed.as_of) {
                    if let Outcome::Violated(.., moved_from) = &mut v {
                        *moved_from = seed.moved_from;
                    }
                    return Some(v);
                }
            }
        }
    }
    None
}

/// The violation `account` shows, if any: the run proposes `action` while
/// `when` holds, or the case system carries out such an event pending that day.
fn violation(
    policy: &Policy,
    typed: &TExpr,
    action: &str,
    account: Json,
    as_of: NaiveDate,
) -> Option<Outcome> {
    let schema = &policy.plan.program.schema;
    let decoded = crate::data::snapshot::decode_account(schema, &account).ok()?;
    let run = crate::policy::run(policy, &decoded, as_of, false).ok()?;
    let got = run.actions.iter().find(|a| {
        let record = match &a.kind {
            ActionKind::ScheduleEvent {
                event_type,
                event,
                date,
                timing,
                ..
            } if **event_type == *action => {
                let time = timing.as_ref().and_then(|t| t.time.as_deref());
                action_record_of(schema, action, Some(event), *date, time)
            }
            ActionKind::NominateSeverance { .. } if action == "nominate_severance" => {
                action_record_of(schema, action, None, as_of, None)
            }
            ActionKind::OfferPaymentPlan { .. } if action == "offer_payment_plan" => {
                action_record_of(schema, action, None, as_of, None)
            }
            _ => return false,
        };
        let locals = std::slice::from_ref(&record);
        matches!(
            crate::lang::semantics::eval_standalone(typed, &decoded, as_of, locals),
            Ok(Value::Bool(true))
        )
    });
    if let Some(a) = got {
        let rules = a.rules.iter().map(|r| r.to_string()).collect();
        return Some(Outcome::Violated(
            action.to_string(),
            account,
            rules,
            as_of,
            None,
            None,
        ));
    }
    // A pending event the rails let through makes no action: the case
    // system carries it out today, as `simulate` does.
    let case = account
        .get("case")
        .and_then(|c| serde_json::from_value(c.clone()).ok());
    let mut next = crate::policy::case::apply(case, &run.actions, as_of);
    let carried = next
        .as_mut()
        .map(|c| crate::policy::case::execute_due(c, as_of))
        .unwrap_or_default();
    let went_out = carried.iter().find(|e| {
        let record = action_record_of(schema, action, Some(&e.id), as_of, e.time.as_deref());
        e.event_type == action
            && matches!(
                crate::lang::semantics::eval_standalone(
                    typed,
                    &decoded,
                    as_of,
                    std::slice::from_ref(&record)
                ),
                Ok(Value::Bool(true))
            )
    });
    if let Some(e) = went_out {
        return Some(Outcome::Violated(
            action.to_string(),
            account,
            vec![format!(
                "its pending event `{}`, carried out that day",
                e.id
            )],
            as_of,
            Some(e.id.to_string()),
            None,
        ));
    }
    None
}

/// `account` with an event of type `action` pending in its open case and due
/// on `as_of` (under a template event id of that type, so that no rail reads
/// a made-up one); `None` without an open case or for an action that is not
/// an event.
fn with_pending_event(
    policy: &Policy,
    account: &Json,
    action: &str,
    as_of: NaiveDate,
) -> Option<Json> {
    if !EVENT_TYPES.contains(&action) {
        return None;
    }
    let mut account = account.clone();
    let case = account.get_mut("case")?.as_object_mut()?;
    let id = policy
        .templates
        .values()
        .flat_map(|t| &t.events)
        .filter(|e| &*e.kind == action)
        .map(|e| e.id.to_string())
        .min()
        .unwrap_or_else(|| format!("{action}-pending"));
    let event = serde_json::json!({
        "id": id, "type": action, "date": as_of.to_string(), "status": "pending"
    });
    match case.get_mut("events").and_then(Json::as_array_mut) {
        Some(events) => {
            events.retain(|e| e.get("id").and_then(Json::as_str) != Some(id.as_str()));
            events.push(event);
        }
        None => {
            case.insert("events".into(), Json::Array(vec![event]));
        }
    }
    Some(account)
}

/// The field names of an input that is a plain account path.
fn plain_path(schema: &Schema, e: &TExpr) -> Option<Vec<String>> {
    let mut slots = Vec::new();
    let mut node = e;
    loop {
        match &node.kind {
            TExprKind::Field(base, slot) => {
                slots.push(*slot);
                node = base;
            }
            TExprKind::Account => break,
            _ => return None,
        }
    }
    slots.reverse();
    let mut record = ACCOUNT;
    let mut names = Vec::new();
    for slot in slots {
        let field = schema.record(record).fields.get(slot as usize)?;
        names.push(field.name.clone());
        if let crate::types::Type::Record(inner) = field.ty {
            record = inner;
        }
    }
    Some(names)
}

fn set(account: &mut Json, path: &[String], value: Json) {
    let mut node = account;
    for (k, name) in path.iter().enumerate() {
        let Json::Object(map) = node else { return };
        if k + 1 == path.len() {
            map.insert(name.clone(), value);
            return;
        }
        node = map
            .entry(name.clone())
            .or_insert_with(|| Json::Object(Default::default()));
    }
}
