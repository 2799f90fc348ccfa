//! One account through the policy: evaluate the tables, then turn their
//! decisions into case actions. Pure, like the evaluator.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::action::{Action, ActionKind, FlagValue, FlagValues, Instalment as OfferInstalment};
use super::promise::{self, Payment, Status, Terms};
use super::{FollowUp, Nomination, Out, Policy, Role, Template, MAX_PLAN_INSTALMENTS};
use crate::eval::{Decision, EvalError, EvalErrorKind, Evaluation, Outcome, Tables};
use crate::lang::compile::{CompiledTable, Plan, RuleRef};
use crate::types::{format_money, Value};

/// The actions for one account, and the decisions (with trace) behind them.
#[derive(Debug, Clone, Default)]
pub struct PolicyRun {
    pub actions: Vec<Action>,
    pub evaluation: Evaluation,
}

type Result<T> = std::result::Result<T, EvalError>;

fn policy_error(table: &str, message: String) -> EvalError {
    EvalError {
        table: table.to_string(),
        item: None,
        kind: EvalErrorKind::Policy(message),
    }
}

/// Runs the whole pipeline for one account snapshot as of `as_of`, after
/// evaluating every table (so that all decisions can be shown and tested; an
/// error in any table fails the account).
pub fn run(policy: &Policy, account: &Value, as_of: NaiveDate, trace: bool) -> Result<PolicyRun> {
    let mut tables = Tables::new(&policy.plan, account, as_of, trace);
    tables.require_all()?;
    pipeline(policy, account, as_of, tables)
}

/// The same actions as [`run`], evaluating only the tables the pipeline reads
/// for this account (an account without arrears stops at the entry table).
/// The batch runs this; decisions of tables it skipped are absent, and so are
/// their errors.
pub fn run_needed(policy: &Policy, account: &Value, as_of: NaiveDate) -> Result<PolicyRun> {
    let tables = Tables::new(&policy.plan, account, as_of, false);
    pipeline(policy, account, as_of, tables)
}

fn pipeline(
    policy: &Policy,
    account: &Value,
    as_of: NaiveDate,
    tables: Tables<'_>,
) -> Result<PolicyRun> {
    let mut ctx = Ctx {
        policy,
        account,
        as_of,
        tables,
        actions: Vec::new(),
    };
    let case = policy
        .slots
        .case
        .and_then(|c| match field(account, c.slot) {
            Value::Record(_) => Some(c),
            _ => None,
        });
    match case {
        None => ctx.new_account()?,
        Some(case) => ctx.open_case(case)?,
    }
    if !ctx.actions.is_empty() || case.is_some() {
        ctx.flags()?;
        // Last, so that no strategy can schedule contact around it.
        ctx.contact_hold()?;
    }
    Ok(PolicyRun {
        actions: ctx.actions,
        evaluation: ctx.tables.evaluation,
    })
}

struct Ctx<'a> {
    policy: &'a Policy,
    account: &'a Value,
    as_of: NaiveDate,
    tables: Tables<'a>,
    actions: Vec<Action>,
}

fn field(record: &Value, slot: usize) -> Value {
    match record {
        Value::Record(fields) => fields.get(slot).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => Some(t.to_string()),
        _ => None,
    }
}

fn money(v: &Value) -> Decimal {
    match v {
        Value::Dec(d) => *d,
        Value::Int(n) => Decimal::from(*n),
        _ => Decimal::ZERO,
    }
}

/// The rule refs of a decision: the rows that decided (`table:row`), or `table:default`.
fn rules_of(table: &CompiledTable, d: &Decision) -> Vec<RuleRef> {
    match &d.outcome {
        Outcome::Default { .. } => vec![table.default_ref.clone()],
        Outcome::Row { row, also, .. } => std::iter::once(row)
            .chain(also)
            .map(|r| table.row_refs[*r as usize].clone())
            .collect(),
        other => other
            .rows()
            .iter()
            .map(|r| table.row_refs[*r as usize].clone())
            .collect(),
    }
}

/// The single decision of a per-account table, if it was evaluated.
fn single_decision<'t>(tables: &'t Tables<'_>, role: &Role) -> Option<&'t Decision> {
    tables
        .evaluation
        .decisions
        .iter()
        .find(|d| d.table == role.table && d.item.is_none())
}

impl Ctx<'_> {
    fn plan(&self) -> &Plan {
        &self.policy.plan
    }

    fn table_name(&self, role: &Role) -> &str {
        &self.plan().tables[role.table as usize].table.name
    }

    /// Evaluates the role's table unless it already was (and the tables it reads).
    fn require(&mut self, role: &Role) -> Result<()> {
        self.tables.require(role.table)
    }

    /// The single decision of a per-account table, once [`Ctx::require`]d; read
    /// in place, so the caller computes what it needs before pushing actions.
    fn decision(&self, role: &Role) -> Option<&Decision> {
        single_decision(&self.tables, role)
    }

    /// Decisions of a `for_each` table, by item index (evaluated if it was not yet).
    fn item_decisions(&mut self, role: &Role) -> Result<Vec<Decision>> {
        self.require(role)?;
        Ok(self
            .tables
            .evaluation
            .decisions
            .iter()
            .filter(|d| d.table == role.table && d.item.is_some())
            .cloned()
            .collect())
    }

    fn rules(&self, d: &Decision) -> Vec<RuleRef> {
        rules_of(&self.plan().tables[d.table as usize], d)
    }

    fn values<'d>(&self, d: &'d Decision) -> &'d [Value] {
        match &d.outcome {
            Outcome::Row { values, .. } | Outcome::Default { values } => values,
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

    fn out_text(&self, role: &Role, d: &Decision, out: Out) -> Option<String> {
        self.out_str(role, d, out).map(str::to_string)
    }

    /// An output the area needs: null is an error naming the row that gave it,
    /// never a default.
    fn need<'d>(&self, role: &Role, d: &'d Decision, out: Out) -> Result<&'d Value> {
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

    fn need_bool(&self, role: &Role, d: &Decision, out: Out) -> Result<bool> {
        Ok(*self.need(role, d, out)? == Value::Bool(true))
    }

    fn need_text(&self, role: &Role, d: &Decision, out: Out) -> Result<String> {
        self.need(role, d, out)?;
        Ok(self.out_text(role, d, out).unwrap_or_default())
    }

    fn need_int(&self, role: &Role, d: &Decision, out: Out) -> Result<i64> {
        match self.need(role, d, out)? {
            Value::Int(n) => Ok(*n),
            _ => Ok(0),
        }
    }

    fn need_money(&self, role: &Role, d: &Decision, out: Out) -> Result<Decimal> {
        Ok(money(self.need(role, d, out)?))
    }

    /// The variant index of an enum output the area needs.
    fn need_variant(&self, role: &Role, d: &Decision, out: Out) -> Result<usize> {
        match self.need(role, d, out)? {
            Value::Enum(v) => Ok(*v as usize),
            _ => Ok(0),
        }
    }

    fn out(&self, role: &Role, d: &Decision, out: Out) -> Value {
        role.col(out)
            .and_then(|i| self.values(d).get(i).cloned())
            .unwrap_or_default()
    }

    fn push(&mut self, kind: ActionKind, rules: Vec<RuleRef>) {
        self.actions.push(Action { kind, rules });
    }

    /// Every row that fired in a flag table becomes a `flag` action.
    fn flags(&mut self) -> Result<()> {
        // A copy of the `&Policy`, so the roles are read in place, not cloned per account.
        let policy = self.policy;
        let plan = &policy.plan;
        for role in &policy.roles.flags {
            self.require(role)?;
            let compiled = &plan.tables[role.table as usize];
            // The decision is read in place while actions are pushed (disjoint fields).
            let Some(d) = single_decision(&self.tables, role) else {
                continue;
            };
            let actions = &mut self.actions;
            let flag = |values: &[Value]| ActionKind::Flag {
                table: compiled.name.clone(),
                values: FlagValues(
                    plan.named_outputs(role.table, values)
                        .zip(&compiled.results)
                        .map(|((name, value), (_, ty))| FlagValue {
                            name: name.clone(),
                            value,
                            text: *ty == crate::types::Type::Text,
                        })
                        .collect(),
                ),
            };
            match &d.outcome {
                Outcome::Default { .. } => {}
                Outcome::Aggregate { rows, .. } if rows.is_empty() => {}
                Outcome::Row { values, .. } => actions.push(Action {
                    kind: flag(values),
                    rules: rules_of(compiled, d),
                }),
                Outcome::Aggregate { value, .. } => actions.push(Action {
                    kind: flag(std::slice::from_ref(value)),
                    rules: rules_of(compiled, d),
                }),
                Outcome::Rows(rows) => {
                    for (r, values) in rows {
                        actions.push(Action {
                            kind: flag(values),
                            rules: vec![compiled.row_refs[*r as usize].clone()],
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// While the contact-hold table holds, contact events are withheld and one
    /// `hold_contact` action says so.
    fn contact_hold(&mut self) -> Result<()> {
        let policy = self.policy;
        let Some(role) = &policy.roles.contact_hold else {
            return Ok(());
        };
        self.require(role)?;
        let Some(d) = self.decision(role) else {
            return Ok(());
        };
        if !self.need_bool(role, d, Out::Hold)? {
            return Ok(());
        }
        let rules = self.rules(d);
        let reason = self
            .out_text(role, d, Out::Reason)
            .unwrap_or_else(|| rules.join(", "));
        let is_contact = |a: &Action| matches!(&a.kind, ActionKind::ScheduleEvent { event_type, .. } if matches!(&**event_type, "send_letter" | "call" | "email" | "sms"));
        let withheld: Vec<String> = self
            .actions
            .iter()
            .filter(|a| is_contact(a))
            .filter_map(|a| match &a.kind {
                ActionKind::ScheduleEvent { event, .. } => Some(event.to_string()),
                _ => None,
            })
            .collect();
        self.actions.retain(|a| !is_contact(a));
        self.push(ActionKind::HoldContact { reason, withheld }, rules);
        Ok(())
    }

    /// No open case: entry, and for a new case its class, arm and events.
    fn new_account(&mut self) -> Result<()> {
        let policy = self.policy;
        let roles = &policy.roles;
        self.require(&roles.entry)?;
        let Some(entry) = self.decision(&roles.entry) else {
            return Ok(());
        };
        // `none` or null: no case.
        let category = match self.out(&roles.entry, entry, Out::Category) {
            Value::Enum(v) if Some(v) != policy.variants.no_case => v,
            _ => return Ok(()),
        };
        let category = self
            .out_text(&roles.entry, entry, Out::Category)
            .unwrap_or_else(|| category.to_string());
        let open = ActionKind::OpenCase {
            category,
            reason: self.out_text(&roles.entry, entry, Out::Reason),
        };
        let entry_rules = self.rules(entry);
        self.push(open, entry_rules);

        self.require(&roles.class)?;
        let Some(class) = self.decision(&roles.class) else {
            return Ok(());
        };
        let class_rules = self.rules(class);
        let class_name = self.out_text(&roles.class, class, Out::Class);
        let mut template = self.need_text(&roles.class, class, Out::Template)?;
        self.push(
            ActionKind::AssignClass {
                class: class_name.clone(),
                template: template.clone(),
            },
            class_rules.clone(),
        );
        let mut rules = class_rules;
        let id = text(&field(self.account, self.plan().schema().id_slot)).unwrap_or_default();
        for ce in &self.policy.experiments {
            if !class_name.as_ref().is_some_and(|c| ce.classes.contains(c))
                || ce.experiment.arms.is_empty()
            {
                continue;
            }
            let arm = ce.experiment.assign(&id);
            self.actions.push(Action {
                kind: ActionKind::AssignArm {
                    experiment: ce.experiment.name.clone(),
                    arm: arm.name.clone(),
                    template: arm.template.clone(),
                    holdout: arm.holdout,
                },
                rules: vec![arm.rule_ref.clone()],
            });
            if let Some(t) = &arm.template {
                template = t.clone();
                rules.push(arm.rule_ref.clone());
            }
        }
        let Some(template) = self.policy.templates.get(&template) else {
            return Err(policy_error(
                self.table_name(&roles.class),
                format!("template `{template}` is not defined"),
            ));
        };
        self.schedule(template, self.as_of, &rules)
    }

    /// Every event of the template, dated from `start` on the template's calendar.
    fn schedule(&mut self, template: &Template, start: NaiveDate, rules: &[RuleRef]) -> Result<()> {
        for event in &template.events {
            let date = self.event_date(template, event.day, start)?;
            let mut event_rules = Vec::with_capacity(rules.len() + 1);
            event_rules.extend_from_slice(rules);
            event_rules.push(event.rule_ref.clone());
            self.push(
                ActionKind::ScheduleEvent {
                    event: event.id.clone(),
                    event_type: event.kind.clone(),
                    date,
                    params: event.params.clone(),
                },
                event_rules,
            );
        }
        Ok(())
    }

    fn event_date(&self, template: &Template, day: i64, start: NaiveDate) -> Result<NaiveDate> {
        let due = u64::try_from(day)
            .ok()
            .and_then(|d| start.checked_add_days(Days::new(d)));
        due.and_then(|d| template.calendar.roll_forward(d))
            .ok_or_else(|| {
                policy_error(
                    &template.name,
                    format!("event date out of range (day {day} from {start})"),
                )
            })
    }

    /// An open case: exit, SA removal, promises, payment-plan offer, severance.
    fn open_case(&mut self, case: super::CaseSlots) -> Result<()> {
        let policy = self.policy;
        let roles = &policy.roles;
        let mut manual_only = false;
        if let Some(exit) = &roles.exit {
            self.require(exit)?;
            if let Some(d) = self.decision(exit) {
                let rules = self.rules(d);
                if let Some(todo) = self.out_text(exit, d, Out::Todo) {
                    // A person decides this case (special circumstances): nothing closes it automatically.
                    manual_only = true;
                    self.push(ActionKind::CreateTodo { reason: todo }, rules);
                } else if self.need_bool(exit, d, Out::Close)? {
                    let reason = self.out_text(exit, d, Out::Reason);
                    self.close(reason, rules);
                    return Ok(());
                }
            }
        }
        let mut removed = Vec::new();
        if let (Some(sa_exit), Some((sas_slot, sa))) =
            (&roles.sa_exit, self.policy.slots.service_agreements)
        {
            let sas = list(&field(self.account, sas_slot));
            for d in self.item_decisions(sa_exit)? {
                if self.need_bool(sa_exit, &d, Out::Remove)? {
                    removed.extend(d.item);
                    let id = d
                        .item
                        .and_then(|i| sas.get(i as usize))
                        .and_then(|r| text(&field(r, sa.id)))
                        .unwrap_or_default();
                    let reason = self.out_text(sa_exit, &d, Out::Reason);
                    let rules = self.rules(&d);
                    self.push(ActionKind::RemoveSa { sa: id, reason }, rules);
                }
            }
        }
        let (closed, pending_promise) = self.promises(manual_only)?;
        if closed {
            return Ok(());
        }
        if !pending_promise {
            self.payment_plan_offer()?;
        }
        self.severance(case, &removed)
    }

    fn close(&mut self, reason: Option<String>, rules: Vec<RuleRef>) {
        self.push(ActionKind::CancelPendingEvents, rules.clone());
        self.push(ActionKind::CloseCase { reason }, rules);
    }

    /// Evaluates every promise (a plan's instalments together). Returns whether
    /// the case was closed and whether a promise is still pending.
    fn promises(&mut self, manual_only: bool) -> Result<(bool, bool)> {
        let (Some(terms_role), Some((slot, ps))) = (
            self.policy.roles.promise_terms.as_ref(),
            self.policy.slots.promises,
        ) else {
            return Ok((false, false));
        };
        let promises = list(&field(self.account, slot));
        let decisions = self.item_decisions(terms_role)?;
        // Group by plan id; a promise without one is a plan of its own. First appearance order.
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, p) in promises.iter().enumerate() {
            let key = ps
                .plan
                .and_then(|s| text(&field(p, s)))
                .or_else(|| text(&field(p, ps.id)))
                .unwrap_or_else(|| format!("#{}", i + 1));
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        let arrears_paid_in_full =
            money(&field(self.account, self.policy.slots.arrears)) <= Decimal::ZERO;
        let terms_table = self.table_name(terms_role).to_string();
        let mut pending = false;
        for (key, members) in groups {
            let Some(d) = decisions.iter().find(|d| d.item == Some(members[0] as u32)) else {
                continue;
            };
            let terms = self.terms(terms_role, d)?;
            let mut instalments = Vec::new();
            let mut payments = Vec::new();
            for &m in &members {
                let p = &promises[m];
                let (Value::Date(due), amount) =
                    (field(p, ps.due_date), money(&field(p, ps.amount)))
                else {
                    continue;
                };
                instalments.push(promise::Instalment {
                    id: text(&field(p, ps.id)).unwrap_or_default(),
                    amount,
                    due,
                });
                for pay in list(&field(p, ps.payments)) {
                    if let Value::Date(date) = field(&pay, ps.payment_date) {
                        payments.push(Payment {
                            amount: money(&field(&pay, ps.payment_amount)),
                            date,
                        });
                    }
                }
            }
            let result = promise::evaluate(
                &instalments,
                &payments,
                &terms,
                self.as_of,
                &self.policy.calendar,
            )
            .map_err(|e| policy_error(&terms_table, format!("promise `{key}`: {e}")))?;
            let last = result.instalments.last().cloned();
            let (paid, required, deadline) = last
                .as_ref()
                .map_or((Decimal::ZERO, Decimal::ZERO, self.as_of), |l| {
                    (l.paid, l.required, l.deadline)
                });
            let rules = self.rules(d);
            self.push(
                ActionKind::PromiseOutcome {
                    promise: key.clone(),
                    status: result.status,
                    paid: format_money(paid),
                    required: format_money(required),
                    deadline,
                    arrears_paid_in_full,
                },
                rules.clone(),
            );
            match result.status {
                Status::Pending => pending = true,
                Status::Kept if arrears_paid_in_full && manual_only => {}
                Status::Kept if arrears_paid_in_full => {
                    self.close(Some("promise kept and arrears paid in full".into()), rules);
                    return Ok((true, pending));
                }
                status => {
                    let total: Decimal = instalments.iter().map(|i| i.amount).sum();
                    let facts = PromiseFacts {
                        key: key.clone(),
                        status,
                        total,
                        paid,
                        required,
                        deadline,
                        instalments: instalments.len(),
                        arrears_paid_in_full,
                    };
                    let closed = self.follow_up(&facts, manual_only)?;
                    if closed {
                        return Ok((true, pending));
                    }
                }
            }
        }
        Ok((false, pending))
    }

    fn terms(&self, role: &Role, d: &Decision) -> Result<Terms> {
        let rule =
            self.policy.variants.tolerance_rule[self.need_variant(role, d, Out::ToleranceRule)?];
        let grace = self.need_int(role, d, Out::GraceDays)?;
        Ok(Terms {
            tolerance_amount: self.need_money(role, d, Out::ToleranceAmount)?,
            tolerance_percent: self.need_money(role, d, Out::TolerancePercent)?,
            rule,
            grace_days: u32::try_from(grace.max(0)).unwrap_or(u32::MAX),
            grace_in_business_days: self.need_bool(role, d, Out::GraceBusinessDays)?,
        })
    }

    /// Kept with arrears remaining, or broken: the follow-up table decides.
    fn follow_up(&mut self, facts: &PromiseFacts, manual_only: bool) -> Result<bool> {
        let PromiseFacts {
            key,
            status,
            total,
            paid,
            required,
            deadline,
            instalments,
            arrears_paid_in_full,
        } = facts.clone();
        let key = key.as_str();
        let Some(role) = self.policy.roles.promise_follow_up.as_ref() else {
            return Ok(false);
        };
        let [pending, kept, broken] = self.policy.variants.promise_status;
        let status_variant = match status {
            Status::Pending => pending,
            Status::Kept => kept,
            Status::Broken => broken,
        };
        let promise_record = Value::Record(
            vec![
                Value::Text(key.into()),
                Value::Enum(status_variant),
                Value::Dec(total),
                Value::Dec(paid),
                Value::Dec(required),
                Value::Date(deadline),
                Value::Int(instalments as i64),
                Value::Bool(arrears_paid_in_full),
            ]
            .into(),
        );
        let (decisions, traces) = self.tables.evaluate_with(role.table, &[promise_record])?;
        self.tables.evaluation.trace.extend(traces);
        let Some(d) = decisions.into_iter().next() else {
            return Ok(false);
        };
        let rules = self.rules(&d);
        let decided = self.policy.variants.follow_up[self.need_variant(role, &d, Out::FollowUp)?];
        let follow_up = self.out_text(role, &d, Out::FollowUp).unwrap_or_default();
        let detail = self.out_text(role, &d, Out::Detail);
        self.tables.evaluation.decisions.push(d);
        let case_template = self
            .policy
            .slots
            .case
            .and_then(|c| c.template.map(|t| (c.slot, t)))
            .and_then(|(slot, t)| text(&field(&field(self.account, slot), t)));
        let event_type = match decided {
            FollowUp::None => return Ok(false),
            // A manual-only case (special circumstances) is never closed by a rule.
            FollowUp::CloseCase if manual_only => None,
            FollowUp::CloseCase => {
                self.close(
                    Some(detail.unwrap_or_else(|| "promise follow-up".into())),
                    rules,
                );
                return Ok(true);
            }
            FollowUp::SendLetter => Some("send_letter"),
            FollowUp::SendEmail => Some("email"),
            FollowUp::SendSms => Some("sms"),
            FollowUp::Call => Some("call"),
            FollowUp::PreviousTreatment => {
                self.push(
                    ActionKind::ResumeTreatment {
                        template: case_template,
                    },
                    rules.clone(),
                );
                None
            }
            FollowUp::Retreat | FollowUp::PartPaymentPath => None,
        };
        if let Some(event_type) = event_type {
            let date = self
                .policy
                .calendar
                .roll_forward(self.as_of)
                .unwrap_or(self.as_of);
            let params = std::sync::Arc::new(
                detail
                    .iter()
                    .map(|d| ("detail".to_string(), d.clone()))
                    .collect(),
            );
            self.push(
                ActionKind::ScheduleEvent {
                    event: format!("promise-{key}-{follow_up}").into(),
                    event_type: event_type.into(),
                    date,
                    params,
                },
                rules.clone(),
            );
        }
        self.push(
            ActionKind::FollowUp {
                promise: key.to_string(),
                follow_up,
                detail,
            },
            rules,
        );
        Ok(false)
    }

    fn payment_plan_offer(&mut self) -> Result<()> {
        let Some(role) = self.policy.roles.payment_plan.as_ref() else {
            return Ok(());
        };
        self.require(role)?;
        let Some(d) = self.decision(role) else {
            return Ok(());
        };
        let n = self.need_int(role, d, Out::Instalments)?;
        if n == 0 {
            return Ok(());
        }
        if !(1..=MAX_PLAN_INSTALMENTS).contains(&n) {
            return Err(policy_error(
                self.table_name(role),
                format!(
                    "`{}` offers {n} instalments; an offer has 1 to {MAX_PLAN_INSTALMENTS} (0 = no offer)",
                    self.rules(d).join(", ")
                ),
            ));
        }
        let n = n as u32;
        let total = self.need_money(role, d, Out::Amount)?;
        if total <= Decimal::ZERO {
            return Ok(());
        }
        let first_in = u64::try_from(self.need_int(role, d, Out::FirstDueIn)?.max(0)).unwrap_or(0);
        let table = self.table_name(role).to_string();
        let first = self
            .as_of
            .checked_add_days(Days::new(first_in))
            .ok_or_else(|| policy_error(&table, "first due date out of range".into()))?;
        let plan = promise::split_plan(total, n, first, &self.policy.calendar)
            .map_err(|e| policy_error(&table, format!("payment plan: {e}")))?;
        let instalments = plan
            .into_iter()
            .map(|i| OfferInstalment {
                due: i.due,
                amount: format_money(i.amount),
            })
            .collect();
        let rules = self.rules(d);
        self.push(
            ActionKind::OfferPaymentPlan {
                total: format_money(total),
                instalments,
            },
            rules,
        );
        Ok(())
    }

    /// Once the case's template reaches its severance event: per-SA eligibility and nomination.
    /// SAs in `removed` have left the case and are not considered.
    fn severance(&mut self, case: super::CaseSlots, removed: &[u32]) -> Result<()> {
        let (Some(role), Some((sas_slot, sa))) = (
            self.policy.roles.severance.as_ref(),
            self.policy.slots.service_agreements,
        ) else {
            return Ok(());
        };
        let case_value = field(self.account, case.slot);
        let Value::Date(start) = field(&case_value, case.start_date) else {
            return Ok(());
        };
        let Some(template) = case
            .template
            .and_then(|t| text(&field(&case_value, t)))
            .and_then(|t| self.policy.templates.get(&t))
        else {
            return Ok(());
        };
        let Some(event) = template
            .events
            .iter()
            .find(|e| &*e.kind == "start_severance")
        else {
            return Ok(());
        };
        let due = self.event_date(template, event.day, start)?;
        if due > self.as_of {
            return Ok(());
        }
        let sas = list(&field(self.account, sas_slot));
        let mut eligible: Vec<(usize, Vec<RuleRef>)> = Vec::new();
        for d in self.item_decisions(role)? {
            let Some(i) = d.item.map(|i| i as usize) else {
                continue;
            };
            if removed.contains(&(i as u32)) {
                continue;
            }
            let rules = self.rules(&d);
            if self.need_bool(role, &d, Out::Eligible)? {
                eligible.push((i, rules));
            } else {
                let id = sas
                    .get(i)
                    .and_then(|r| text(&field(r, sa.id)))
                    .unwrap_or_default();
                let reason = self.out_text(role, &d, Out::Reason);
                let until = match self.out(role, &d, Out::PostponeUntil) {
                    Value::Date(u) => Some(u),
                    _ => None,
                };
                self.push(
                    ActionKind::ExcludeSeverance {
                        sa: id,
                        reason,
                        until,
                    },
                    rules,
                );
            }
        }
        if eligible.is_empty() {
            return Ok(());
        }
        if self.policy.nominate == Nomination::HighestArrears {
            // Highest arrears; the first listed wins a tie.
            let best = eligible
                .iter()
                .enumerate()
                .max_by(|(ai, (a, _)), (bi, (b, _))| {
                    let (x, y) = (
                        money(&field(&sas[*a], sa.arrears)),
                        money(&field(&sas[*b], sa.arrears)),
                    );
                    x.cmp(&y).then(bi.cmp(ai))
                })
                .map(|(i, _)| i)
                .unwrap_or(0);
            eligible = vec![eligible.swap_remove(best)];
        }
        let ids = eligible
            .iter()
            .filter_map(|(i, _)| text(&field(&sas[*i], sa.id)))
            .collect();
        let mut rules: Vec<RuleRef> = eligible.into_iter().flat_map(|(_, r)| r).collect();
        rules.push(event.rule_ref.clone());
        self.push(ActionKind::NominateSeverance { sas: ids }, rules);
        Ok(())
    }
}

/// What the follow-up table's `promise` record says about one evaluated promise or plan.
#[derive(Clone)]
struct PromiseFacts {
    key: String,
    status: Status,
    total: Decimal,
    paid: Decimal,
    required: Decimal,
    deadline: NaiveDate,
    instalments: usize,
    arrears_paid_in_full: bool,
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::List(items) => items.to_vec(),
        _ => Vec::new(),
    }
}
