//! The invariants a guard-rail pack states (`never: {when, action}`), proved
//! over the whole policy by `arrears lint`. The pack runs last on every
//! proposal, so an invariant holds when, for each forbidden action type, one
//! guard table stops it (withhold, cancel, a rechannel out of the forbidden
//! set, or a postpone of an action that is not an event, which cannot wait and
//! is withheld) at every point of its input space where `when` holds, first hit
//! respected: decided on the table's boxes with the coverage search. A region
//! left open is a candidate only: it becomes `invariant-violated` when an
//! account built from it (on the rules' own test accounts) really gets the
//! forbidden action from `policy::run`, proposed by the strategy or pending
//! in its open case and let out; otherwise the invariant is
//! `invariant-undecided`, never proven. It must not change what the run does.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value as Json;

use super::bits::Bits;
use super::search::{OverBudget, Search};
use super::space::{build_space, Bound, Layout, Space};
use super::{LEAF_BUDGET, PAIR_BUDGET};
use crate::data::schema::{Schema, ACCOUNT, EVENT_TYPES};
use crate::diagnostic::Diagnostic;
use crate::lang::ir::{TExpr, TExprKind, Table};
use crate::lang::syntax::ast::{Arg, BinaryOp, Expr, ExprKind, UnaryOp};
use crate::lang::syntax::{canonical_expr, parse_expr};
use crate::model::doc::InvariantDoc;
use crate::model::spanned::Spanned;
use crate::policy::action::ActionKind;
use crate::policy::case::Channel;
use crate::policy::Policy;
use crate::source::SourceFile;
use crate::types::Value;

/// An account to build counterexamples on (a rules test's), and its `as_of`.
pub struct Seed {
    pub account: Json,
    pub as_of: NaiveDate,
}

/// One condition of `when`: an input's expression, asserted or negated.
struct Condition {
    canonical: String,
    negated: bool,
}

enum Outcome {
    Proven,
    /// The forbidden action, the account that gets it (JSON) and the rules that made it.
    Violated(String, Json, Vec<String>, NaiveDate),
    Undecided(String),
}

/// Proves every invariant of `invariants` over `policy`; diagnostics per
/// invariant not proven and one summary.
pub fn prove_all(
    policy: &Policy,
    invariants: &[(Arc<SourceFile>, String, Spanned<InvariantDoc>)],
    seeds: &[Seed],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
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
        let when = never.when.value.0.as_str();
        let conditions = match conditions(when) {
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
        match prove(policy, &conditions, &actions, seeds) {
            Outcome::Proven => proven += 1,
            Outcome::Violated(action, account, rules, as_of) => out.push(
                at(
                    "invariant-violated",
                    format!(
                        "invariant `never {action} when {when}` of `{pack}` is violated: this account gets `{action}` on {as_of} through {}: {}",
                        if rules.is_empty() { "no rule".to_string() } else { rules.join(" → ") },
                        account
                    ),
                )
                .with_help("add a guard row that withholds or cancels the action while the condition holds"),
            ),
            Outcome::Undecided(why) => out.push(at(
                "invariant-undecided",
                format!("invariant `never {} when {when}` of `{pack}` cannot be decided: {why}", actions.join(", ")),
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
    out
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
        ExprKind::Unary(UnaryOp::Not, inner) => out.push(Condition {
            canonical: canonical_expr(inner),
            negated: true,
        }),
        ExprKind::Call(call) if call.function.name == "not" && call.args.len() == 1 => {
            match &call.args[0] {
                Arg::Expr(inner) => out.push(Condition {
                    canonical: canonical_expr(inner),
                    negated: true,
                }),
                Arg::Each(_) => out.push(Condition {
                    canonical: canonical_expr(e),
                    negated: false,
                }),
            }
        }
        _ => out.push(Condition {
            canonical: canonical_expr(e),
            negated: false,
        }),
    }
}

fn canonical_text(text: &str) -> Option<String> {
    parse_expr(text).ok().map(|e| canonical_expr(&e))
}

fn prove(policy: &Policy, when: &[Condition], actions: &[String], seeds: &[Seed]) -> Outcome {
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
            if let Some(v) = confirm(policy, when, action, &candidates, seeds) {
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
    let space = build_space(schema, table).map_err(|_| "too large to analyse".to_string())?;
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
            Some("postpone") => !EVENT_TYPES.contains(&action),
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
/// inputs set; the first that `policy::run` gives `action` is the counterexample.
fn confirm(
    policy: &Policy,
    when: &[Condition],
    action: &str,
    candidates: &[(String, usize, Vec<usize>)],
    seeds: &[Seed],
) -> Option<Outcome> {
    let program = &policy.plan.program;
    let schema = &program.schema;
    let paths: Vec<(Vec<String>, bool)> = when
        .iter()
        .map(|c| {
            let segments = c.canonical.strip_prefix("account.")?;
            segments
                .split('.')
                .all(|s| s.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
                .then(|| (segments.split('.').map(String::from).collect(), !c.negated))
        })
        .collect::<Option<_>>()?;
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
            let Ok(decoded) = crate::data::snapshot::decode_account(schema, &account) else {
                continue;
            };
            let Ok(run) = crate::policy::run(policy, &decoded, seed.as_of, false) else {
                continue;
            };
            let got = run.actions.iter().find(|a| match &a.kind {
                ActionKind::ScheduleEvent { event_type, .. } => **event_type == *action,
                ActionKind::NominateSeverance { .. } => action == "nominate_severance",
                ActionKind::OfferPaymentPlan { .. } => action == "offer_payment_plan",
                _ => false,
            });
            if let Some(a) = got {
                let rules = a.rules.iter().map(|r| r.to_string()).collect();
                return Some(Outcome::Violated(
                    action.to_string(),
                    account,
                    rules,
                    seed.as_of,
                ));
            }
            if let Some(violated) = pending_gets_through(policy, &account, action, seed.as_of) {
                return Some(violated);
            }
        }
    }
    None
}

/// The same account with an event of type `action` pending in its open case
/// and due today, as a case opened before the condition arose carries one:
/// violated when the run lets it go out (no withhold, cancel, postpone,
/// rechannel or hold names it, and the case is not closed or re-treated).
fn pending_gets_through(
    policy: &Policy,
    account: &Json,
    action: &str,
    as_of: NaiveDate,
) -> Option<Outcome> {
    if !EVENT_TYPES.contains(&action) {
        return None;
    }
    let mut account = account.clone();
    let case = account.get_mut("case")?.as_object_mut()?;
    // A real event id of that type (a template's), so that no rail reads a made-up one.
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
    let schema = &policy.plan.program.schema;
    let decoded = crate::data::snapshot::decode_account(schema, &account).ok()?;
    let run = crate::policy::run(policy, &decoded, as_of, false).ok()?;
    let stopped = run.actions.iter().any(|a| match &a.kind {
        ActionKind::CancelEvent { event, .. } => *event == id,
        ActionKind::Withhold { event, .. } => event.as_deref() == Some(id.as_str()),
        ActionKind::Postpone { event, .. } | ActionKind::Rechannel { event, .. } => **event == id,
        ActionKind::HoldContact {
            withheld,
            cancelled,
            ..
        } => withheld.contains(&id) || cancelled.contains(&id),
        ActionKind::CloseCase { .. }
        | ActionKind::RetreatCase { .. }
        | ActionKind::CancelPendingEvents => true,
        _ => false,
    });
    (!stopped).then(|| {
        Outcome::Violated(
            action.to_string(),
            account,
            vec![format!("its case's pending event `{id}`, due that day")],
            as_of,
        )
    })
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
