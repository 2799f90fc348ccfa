//! The collections policy: the pipeline from an account snapshot to case
//! actions. A `policy` document names a table for each decision area; this
//! module checks that each table has the outputs its area needs, resolves
//! templates, experiments and calendars, and [`run`] turns one account into
//! [`Action`]s. This file holds the entry points (`load`, `build`,
//! `check_tables`) and the `Builder` they share; `wiring` reads the policy
//! document, `contracts` checks each area table's outputs, `documents` resolves
//! calendars, templates and experiments, `area_rows` checks what area tables'
//! rows say, `slots` finds the snapshot fields, and `areas` holds what the
//! pipeline reads of them.
//! Each area is an ordinary table whose outputs the pipeline reads; it must not
//! match text per account or fall back to a default (a null it needs is an
//! `EvalError`), and it prints nothing.

pub mod action;
mod area_rows;
mod areas;
pub mod calendar;
mod calendar_by;
pub mod case;
mod contracts;
mod documents;
pub mod experiment;
mod experiment_edits;
pub mod promise;
mod rulebook;
mod run;
mod slots;
mod wiring;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use action::{Action, ActionKind};
pub use areas::{FollowUp, Nomination, Out, Role, Roles, Variants, MAX_PLAN_INSTALMENTS};
use calendar::WorkCalendar;
pub use calendar_by::AccountCalendars;
pub use documents::{ClassExperiment, Event, EventDate, Template, START_DATE};
pub use experiment_edits::{experiment_edits, small_arms, MIN_ARM_ACCOUNTS};
pub use rulebook::{InForce, Rulebook};
pub use run::{opening, run, run_needed, run_needed_into, Opening, PolicyRun};
pub use slots::{CaseSlots, EventSlots, PromiseSlots, SaSlots, Slots};

use crate::data::schema::Schema;
use crate::diagnostic::{did_you_mean, Diagnostic, Severity};
use crate::lang::check::{check_with_params, Checked};
use crate::lang::compile::{compile, Plan};
use crate::lang::ir::Program;
use crate::model::spanned::Spanned;
use crate::model::{LoadError, RuleDocs};
use crate::source::SourceFile;
use crate::types::Type;

impl Policy {
    /// The calendar an account's dates move on: its own (`calendar_by`), else the policy's
    /// (a template's events: the template's).
    pub fn calendar_of(&self, account: &crate::types::Value) -> &WorkCalendar {
        self.calendar_by.of(account).unwrap_or(&self.calendar)
    }
}

/// A checked, compiled policy, ready to [`run`].
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub plan: Plan,
    /// The calendar of accounts `calendar_by` gives none of their own.
    pub calendar: WorkCalendar,
    /// Per account, the calendar of its jurisdiction (`calendar_by`).
    pub calendar_by: AccountCalendars,
    pub templates: HashMap<String, Template>,
    pub experiments: Vec<ClassExperiment>,
    pub roles: Roles,
    pub nominate: Nomination,
    pub slots: Slots,
    pub variants: Variants,
    /// The guard rails' enums and the kinds each can say nothing about.
    pub(crate) guard_plan: run::GuardPlan,
    /// Per flag table, per row: its flag's values when they are constants.
    pub(crate) constant_flags: Vec<Box<[Option<action::ConstantFlag>]>>,
}

/// The outcome of checking a rules directory: the policy if it has one and
/// nothing is wrong, the plain program otherwise, and every diagnostic.
pub struct Loaded {
    pub policy: Option<Policy>,
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
    pub has_policy: bool,
    /// The rule files' fingerprint (`RuleDocs::fingerprint`).
    pub fingerprint: String,
    /// Each column mapping of the rules (`RuleDocs::mappings`, in order),
    /// built to check it: `None` for one that does not build (its errors are
    /// among the diagnostics), and none at all when the tables do not check.
    pub mappings: Vec<Option<crate::data::batch::mapping::Mapping>>,
}

impl Loaded {
    /// What was loaded, as `lint`'s summary says it: `policy `collections`: 13
    /// tables, 6 templates, 3 experiments`, `2 tables` without a policy, or
    /// nothing when the tables do not check.
    pub fn contents(&self) -> String {
        match (&self.policy, &self.plan) {
            (Some(p), _) => format!(
                "policy `{}`: {} tables, {} templates, {} experiments",
                crate::diagnostic::printable(&p.name),
                p.plan.tables.len(),
                p.templates.len(),
                p.experiments.len()
            ),
            (None, Some(plan)) => format!("{} tables", plan.tables.len()),
            (None, None) => String::new(),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Loads, checks and compiles a rules directory, with its policy if it has one.
pub fn load(dir: &Path) -> Result<Loaded, LoadError> {
    let docs = crate::model::load_dir(dir)?;
    Ok(build(&docs))
}

/// Checks the tables of a rules directory, giving policy-role tables the
/// values the pipeline provides them (the promise follow-up table's `promise`,
/// the re-treatment table's `retreat`).
pub fn check_tables(docs: &RuleDocs) -> Checked {
    // A policy document that does not parse still names its follow-up and
    // re-treatment tables (their lines read from the text), so that the
    // tables' `promise` and `retreat` are not reported as unknown beside the
    // policy's own error.
    let wired =
        |key: &str, named: fn(&crate::model::doc::PolicyDoc) -> Option<&Spanned<String>>| match docs
            .policies
            .first()
        {
            Some((_, p)) => named(p).map(|n| n.value.clone()),
            None => docs
                .broken
                .policy_wiring
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, table)| table.clone()),
        };
    let follow_up = wired("promise_follow_up", |p| p.promise_follow_up.as_ref());
    let retreat = wired("retreat", |p| p.retreat.as_ref());
    check_with_params(docs, |schema| {
        let mut params = HashMap::new();
        if let Some(name) = follow_up {
            params.insert(
                name,
                vec![(
                    crate::model::load::PROMISE_LOCAL.to_string(),
                    Type::Record(schema.promise_record),
                )],
            );
        }
        if let Some(name) = retreat {
            params.insert(
                name,
                vec![(
                    crate::model::load::RETREAT_LOCAL.to_string(),
                    Type::Record(schema.retreat_record),
                )],
            );
        }
        for name in &docs.guardrails {
            params.insert(
                name.clone(),
                vec![(
                    "action".to_string(),
                    Type::Record(schema.guard_action_record),
                )],
            );
        }
        params
    })
}

pub fn build(docs: &RuleDocs) -> Loaded {
    let policy_doc = docs.policies.first();
    let Checked {
        program,
        mut diagnostics,
    } = check_tables(docs);
    for (file, doc) in docs.policies.iter().skip(1) {
        diagnostics.push(Diagnostic::error(
            "duplicate-policy",
            file,
            doc.policy.span,
            "a rules directory has one policy; this is a second one".to_string(),
        ));
    }
    let Some(program) = program else {
        return Loaded {
            policy: None,
            plan: None,
            diagnostics,
            has_policy: policy_doc.is_some(),
            fingerprint: docs.fingerprint.clone(),
            mappings: Vec::new(),
        };
    };
    // Column mappings are read by `batch`, but checked here so `lint` catches
    // them first; kept built for lint's `unmapped-guard-field`.
    let mut mappings = Vec::with_capacity(docs.mappings.len());
    for (file, mapping) in &docs.mappings {
        match crate::data::batch::mapping::Mapping::build(&program.schema, mapping) {
            Ok(built) => mappings.push(Some(built)),
            Err(errors) => {
                mappings.push(None);
                for e in errors {
                    let span = e.span.unwrap_or(mapping.mapping.span);
                    let help = e.help.clone().unwrap_or_else(|| {
                        "map extract columns to fields the schema declares (docs/batch.md)".into()
                    });
                    diagnostics.push(
                        Diagnostic::error("mapping", file, span, e.to_string()).with_help(help),
                    );
                }
            }
        }
    }
    let Some((file, doc)) = policy_doc else {
        for (file, d) in docs
            .templates
            .iter()
            .map(|(f, d)| (f, &d.template))
            .chain(docs.experiments.iter().map(|(f, d)| (f, &d.experiment)))
        {
            diagnostics.push(
                Diagnostic::warning(
                    "unused",
                    file,
                    d.span,
                    format!(
                        "`{}` is not used: the rules directory has no policy",
                        d.value
                    ),
                )
                .with_help(
                    "add a `policy` document that wires tables, templates and experiments together",
                ),
            );
        }
        return Loaded {
            policy: None,
            plan: Some(compile(program)),
            diagnostics,
            has_policy: false,
            fingerprint: docs.fingerprint.clone(),
            mappings,
        };
    };
    let mut b = Builder {
        file,
        diags: Vec::new(),
        program: &program,
        docs,
    };
    let policy = b.policy(docs, doc);
    diagnostics.append(&mut b.diags);
    let ok = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    let policy = policy.filter(|_| ok).map(|p| p.finish(program));
    Loaded {
        policy,
        plan: None,
        diagnostics,
        has_policy: true,
        fingerprint: docs.fingerprint.clone(),
        mappings,
    }
}

/// A policy whose parts are checked, waiting for the compiled plan.
struct Parts {
    name: String,
    calendar: WorkCalendar,
    calendar_by: AccountCalendars,
    templates: HashMap<String, Template>,
    experiments: Vec<ClassExperiment>,
    roles: Roles,
    nominate: Nomination,
    slots: Slots,
    variants: Variants,
}

impl Parts {
    fn finish(self, program: Program) -> Policy {
        let plan = compile(program);
        Policy {
            guard_plan: run::GuardPlan::new(&plan, &self.roles.guards),
            constant_flags: run::constant_flags(&plan, &self.roles.flags),
            name: self.name,
            plan,
            calendar: self.calendar,
            calendar_by: self.calendar_by,
            templates: self.templates,
            experiments: self.experiments,
            roles: self.roles,
            nominate: self.nominate,
            slots: self.slots,
            variants: self.variants,
        }
    }
}
struct Builder<'a> {
    file: &'a Arc<SourceFile>,
    diags: Vec<Diagnostic>,
    program: &'a Program,
    docs: &'a RuleDocs,
}
impl Builder<'_> {
    fn schema(&self) -> &Schema {
        &self.program.schema
    }

    fn error(
        &mut self,
        code: &'static str,
        span: crate::source::Span,
        message: String,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::error(code, self.file, span, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn named<T: Clone>(
        &mut self,
        map: &HashMap<String, T>,
        name: &Spanned<String>,
        what: &str,
    ) -> Option<T> {
        match map.get(&name.value) {
            Some(v) => Some(v.clone()),
            None => {
                let help = did_you_mean(&name.value, map.keys().map(|k| k.as_str()))
                    .unwrap_or_else(|| {
                        format!("declare it in a file starting `{what}: {}`", name.value)
                    });
                self.error(
                    "unknown-reference",
                    name.span,
                    format!("unknown {what} `{}`", name.value),
                )
                .help = Some(help);
                None
            }
        }
    }
}
