//! The collections policy: the pipeline from an account snapshot to case
//! actions. A `policy` document names a table for each decision area; this
//! module checks that each table has the outputs its area needs, resolves
//! templates, experiments and calendars, and [`run`] turns one account into
//! [`Action`]s.
//! Each area is an ordinary table whose outputs the pipeline reads; it must not
//! match text per account or fall back to a default (a null it needs is an
//! `EvalError`), and it prints nothing.

pub mod action;
pub mod calendar;
pub mod experiment;
pub mod promise;
mod run;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::lang::compile::RuleRef;
pub use action::{Action, ActionKind};
use calendar::WorkCalendar;
use experiment::{Arm, Experiment};
pub use run::{run, run_needed, PolicyRun};

use crate::data::schema::{Schema, BUILTIN_ENUMS};
use crate::diagnostic::{did_you_mean, Diagnostic, Severity};
use crate::lang::check::{check_with_params, Checked};
use crate::lang::compile::{compile, Plan};
use crate::lang::ir::{Program, TCell, TExpr, TExprKind, TTest, Table};
use crate::model::doc::PolicyDoc;
use crate::model::spanned::Spanned;
use crate::model::{LoadError, RuleDocs};
use crate::source::SourceFile;
use crate::types::{Type, Value};

/// A checked, compiled policy, ready to [`run`].
#[derive(Debug)]
pub struct Policy {
    pub name: String,
    pub plan: Plan,
    pub calendar: WorkCalendar,
    pub templates: HashMap<String, Template>,
    pub experiments: Vec<ClassExperiment>,
    pub roles: Roles,
    pub nominate: Nomination,
    pub slots: Slots,
    pub variants: Variants,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub calendar: WorkCalendar,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: Arc<str>,
    pub kind: Arc<str>,
    pub day: i64,
    pub params: action::Params,
    /// `template:name/event-id`, the rule ref of the actions it causes.
    pub rule_ref: RuleRef,
}

#[derive(Debug, Clone)]
pub struct ClassExperiment {
    pub experiment: Experiment,
    pub classes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nomination {
    All,
    HighestArrears,
}

/// An output column a policy area reads, resolved to its index at build time
/// so the pipeline reads outputs by position, never by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    Category,
    Reason,
    Close,
    Todo,
    Remove,
    Class,
    Template,
    ToleranceAmount,
    TolerancePercent,
    ToleranceRule,
    GraceDays,
    GraceBusinessDays,
    FollowUp,
    Detail,
    Instalments,
    Amount,
    FirstDueIn,
    Eligible,
    PostponeUntil,
    Hold,
}

impl Out {
    const COUNT: usize = Out::Hold as usize + 1;

    /// The column's name in the area's table.
    pub fn name(self) -> &'static str {
        match self {
            Out::Category => "category",
            Out::Reason => "reason",
            Out::Close => "close",
            Out::Todo => "todo",
            Out::Remove => "remove",
            Out::Class => "class",
            Out::Template => "template",
            Out::ToleranceAmount => "tolerance_amount",
            Out::TolerancePercent => "tolerance_percent",
            Out::ToleranceRule => "tolerance_rule",
            Out::GraceDays => "grace_days",
            Out::GraceBusinessDays => "grace_business_days",
            Out::FollowUp => "follow_up",
            Out::Detail => "detail",
            Out::Instalments => "instalments",
            Out::Amount => "amount",
            Out::FirstDueIn => "first_due_in",
            Out::Eligible => "eligible",
            Out::PostponeUntil => "postpone_until",
            Out::Hold => "hold",
        }
    }
}

/// A table playing a role, with the output columns the role reads.
#[derive(Debug, Clone)]
pub struct Role {
    pub table: u32,
    /// Output index per [`Out`]; `None` for an optional column the table lacks
    /// (a required one missing is a lint error, so it is always `Some`).
    columns: [Option<u32>; Out::COUNT],
}

/// The pipeline's meaning of each variant of the built-in enums it reads,
/// by variant index, resolved at build time (no text matching per account).
#[derive(Debug, Clone, Default)]
pub struct Variants {
    /// The entry category that opens no case (`none`), if the category enum has one.
    pub no_case: Option<u32>,
    pub tolerance_rule: Vec<promise::ToleranceRule>,
    pub follow_up: Vec<FollowUp>,
    /// The `promise_status` variant of pending, kept and broken.
    pub promise_status: [u32; 3],
}

/// What the promise follow-up table decides (the built-in enum `follow_up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    None,
    CloseCase,
    Retreat,
    PartPaymentPath,
    SendLetter,
    SendEmail,
    Call,
    SendSms,
    PreviousTreatment,
}

impl FollowUp {
    fn from_name(name: &str) -> Option<FollowUp> {
        Some(match name {
            "none" => FollowUp::None,
            "close_case" => FollowUp::CloseCase,
            "retreat" => FollowUp::Retreat,
            "part_payment_path" => FollowUp::PartPaymentPath,
            "send_letter" => FollowUp::SendLetter,
            "send_email" => FollowUp::SendEmail,
            "call" => FollowUp::Call,
            "send_sms" => FollowUp::SendSms,
            "previous_treatment" => FollowUp::PreviousTreatment,
            _ => return None,
        })
    }
}

/// The most instalments a payment-plan offer may have (about three years, monthly).
pub const MAX_PLAN_INSTALMENTS: i64 = 36;

impl Roles {
    /// Every table the policy gives a role.
    pub fn tables(&self) -> Vec<u32> {
        let optional = [
            &self.exit,
            &self.sa_exit,
            &self.promise_terms,
            &self.promise_follow_up,
            &self.payment_plan,
            &self.severance,
            &self.contact_hold,
        ];
        [self.entry.table, self.class.table]
            .into_iter()
            .chain(optional.into_iter().flatten().map(|r| r.table))
            .chain(self.flags.iter().map(|r| r.table))
            .collect()
    }
}

impl Role {
    fn col(&self, out: Out) -> Option<usize> {
        self.columns[out as usize].map(|i| i as usize)
    }
}

#[derive(Debug, Clone)]
pub struct Roles {
    pub entry: Role,
    pub exit: Option<Role>,
    pub sa_exit: Option<Role>,
    pub class: Role,
    pub promise_terms: Option<Role>,
    pub promise_follow_up: Option<Role>,
    pub payment_plan: Option<Role>,
    pub severance: Option<Role>,
    pub contact_hold: Option<Role>,
    /// Tables whose matching rows become `flag` actions; any hit policy.
    pub flags: Vec<Role>,
}

/// Where the pipeline finds the snapshot facts it needs.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    pub arrears: usize,
    pub case: Option<CaseSlots>,
    pub service_agreements: Option<(usize, SaSlots)>,
    pub promises: Option<(usize, PromiseSlots)>,
}

#[derive(Debug, Clone, Copy)]
pub struct CaseSlots {
    pub slot: usize,
    pub start_date: usize,
    pub template: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct SaSlots {
    pub id: usize,
    pub arrears: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct PromiseSlots {
    pub id: usize,
    pub amount: usize,
    pub due_date: usize,
    pub plan: Option<usize>,
    pub payments: usize,
    pub payment_amount: usize,
    pub payment_date: usize,
}

/// The outcome of checking a rules directory: the policy if it has one and
/// nothing is wrong, the plain program otherwise, and every diagnostic.
pub struct Loaded {
    pub policy: Option<Policy>,
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
    pub has_policy: bool,
}

impl Loaded {
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
/// values the pipeline provides them (the promise follow-up table's `promise`).
pub fn check_tables(docs: &RuleDocs) -> Checked {
    let policy_doc = docs.policies.first();
    check_with_params(docs, |schema| {
        let mut params = HashMap::new();
        if let Some(name) = policy_doc.and_then(|(_, p)| p.promise_follow_up.as_ref()) {
            params.insert(
                name.value.clone(),
                vec![("promise".to_string(), Type::Record(schema.promise_record))],
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
        };
    };
    // Column mappings are read by `batch`, but checked here so `lint` catches them first.
    for (file, mapping) in &docs.mappings {
        if let Err(errors) = crate::data::batch::mapping::Mapping::build(&program.schema, mapping) {
            for e in errors {
                diagnostics.push(
                    Diagnostic::error("mapping", file, mapping.mapping.span, e.to_string())
                        .with_help(
                            "map extract columns to fields the schema declares (docs/batch.md)",
                        ),
                );
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
    }
}

/// A policy whose parts are checked, waiting for the compiled plan.
struct Parts {
    name: String,
    calendar: WorkCalendar,
    templates: HashMap<String, Template>,
    experiments: Vec<ClassExperiment>,
    roles: Roles,
    nominate: Nomination,
    slots: Slots,
    variants: Variants,
}

impl Parts {
    fn finish(self, program: Program) -> Policy {
        Policy {
            name: self.name,
            plan: compile(program),
            calendar: self.calendar,
            templates: self.templates,
            experiments: self.experiments,
            roles: self.roles,
            nominate: self.nominate,
            slots: self.slots,
            variants: self.variants,
        }
    }
}

/// What an output column must be for its role.
#[derive(Clone, Copy)]
enum Want {
    Enum,
    Text,
    TextOrEnum,
    Bool,
    Money,
    Decimal,
    Integer,
    DaysOrInteger,
    Date,
    Named(&'static str),
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

    fn policy(&mut self, docs: &RuleDocs, doc: &PolicyDoc) -> Option<Parts> {
        let calendars = self.calendars(docs);
        let calendar = self.named(&calendars, &doc.calendar, "calendar");
        let templates = self.templates(docs, &calendars, calendar.as_ref());
        let entry = self.role(
            &doc.entry,
            "entry",
            false,
            &[
                (Out::Category, Want::Enum, true),
                (Out::Reason, Want::Text, true),
            ],
        );
        let exit = doc.exit.as_ref().and_then(|n| {
            self.role(
                n,
                "exit",
                false,
                &[
                    (Out::Close, Want::Bool, true),
                    (Out::Reason, Want::Text, true),
                    (Out::Todo, Want::Text, false),
                ],
            )
        });
        let sa_exit = doc.sa_exit.as_ref().and_then(|n| {
            self.role(
                n,
                "sa_exit",
                true,
                &[
                    (Out::Remove, Want::Bool, true),
                    (Out::Reason, Want::Text, true),
                ],
            )
        });
        let class = self.role(
            &doc.class,
            "class",
            false,
            &[
                (Out::Class, Want::TextOrEnum, true),
                (Out::Template, Want::Text, true),
            ],
        );
        if let Some(class) = &class {
            self.check_template_outputs(class, &templates, &doc.class);
        }
        let promise_terms = doc.promise_terms.as_ref().and_then(|n| {
            self.role(
                n,
                "promise_terms",
                true,
                &[
                    (Out::ToleranceAmount, Want::Money, true),
                    (Out::TolerancePercent, Want::Decimal, true),
                    (Out::ToleranceRule, Want::Named("tolerance_rule"), true),
                    (Out::GraceDays, Want::Integer, true),
                    (Out::GraceBusinessDays, Want::Bool, true),
                ],
            )
        });
        let promise_follow_up = doc.promise_follow_up.as_ref().and_then(|n| {
            self.role(
                n,
                "promise_follow_up",
                false,
                &[
                    (Out::FollowUp, Want::Named("follow_up"), true),
                    (Out::Detail, Want::Text, false),
                ],
            )
        });
        let payment_plan = doc.payment_plan.as_ref().and_then(|n| {
            self.role(
                n,
                "payment_plan",
                false,
                &[
                    (Out::Instalments, Want::Integer, true),
                    (Out::Amount, Want::Money, true),
                    (Out::FirstDueIn, Want::DaysOrInteger, true),
                ],
            )
        });
        if let Some(role) = &payment_plan {
            self.check_instalment_counts(role);
        }
        let severance = doc.severance.as_ref().and_then(|n| {
            self.role(
                n,
                "severance",
                true,
                &[
                    (Out::Eligible, Want::Bool, true),
                    (Out::Reason, Want::Text, true),
                    (Out::PostponeUntil, Want::Date, false),
                ],
            )
        });
        let contact_hold = doc.contact_hold.as_ref().and_then(|n| {
            self.role(
                n,
                "contact_hold",
                false,
                &[
                    (Out::Hold, Want::Bool, true),
                    (Out::Reason, Want::Text, false),
                ],
            )
        });
        let flags = doc.flags.iter().filter_map(|n| self.flag_role(n)).collect();
        let nominate = match doc.nominate.as_ref().map(|n| n.value.as_str()) {
            None | Some("all") => Nomination::All,
            Some("highest_arrears") => Nomination::HighestArrears,
            Some(other) => {
                let span = doc.nominate.as_ref().map(|n| n.span).unwrap_or_default();
                self.error("policy", span, format!("unknown nomination `{other}`")).help =
                    Some("nominate `all` eligible service agreements or the one with the `highest_arrears`".into());
                Nomination::All
            }
        };
        let experiments = self.experiments(docs, doc, &templates);
        if let Some(class) = &class {
            self.check_unassigned(docs, doc, class);
        }
        if let Some(role) = &promise_follow_up {
            self.check_follow_up_rows(role);
        }
        let slots = self.slots(doc);
        let variants = self.variants(entry.as_ref(), doc.policy.span);
        Some(Parts {
            name: doc.policy.value.clone(),
            calendar: calendar?,
            templates,
            experiments,
            roles: Roles {
                entry: entry?,
                exit,
                sa_exit,
                class: class?,
                promise_terms,
                promise_follow_up,
                payment_plan,
                severance,
                contact_hold,
                flags,
            },
            nominate,
            slots: slots?,
            variants,
        })
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

    fn calendars(&mut self, docs: &RuleDocs) -> HashMap<String, WorkCalendar> {
        let mut out = HashMap::new();
        for (file, doc) in &docs.calendars {
            let calendar = calendar::from_doc(file, doc, &mut self.diags);
            if out.contains_key(&doc.calendar.value) {
                self.diags.push(Diagnostic::error(
                    "duplicate-name",
                    file,
                    doc.calendar.span,
                    format!("calendar `{}` is declared twice", doc.calendar.value),
                ));
            }
            out.insert(doc.calendar.value.clone(), calendar);
        }
        out
    }

    fn templates(
        &mut self,
        docs: &RuleDocs,
        calendars: &HashMap<String, WorkCalendar>,
        default: Option<&WorkCalendar>,
    ) -> HashMap<String, Template> {
        let event_types = BUILTIN_ENUMS
            .iter()
            .find(|(n, _)| *n == "event_type")
            .map_or(&[][..], |(_, v)| *v);
        let mut out = HashMap::new();
        for (file, doc) in &docs.templates {
            let calendar = match &doc.calendar {
                Some(name) => match calendars.get(&name.value) {
                    Some(c) => Some(c.clone()),
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                "unknown-reference",
                                file,
                                name.span,
                                format!("unknown calendar `{}`", name.value),
                            )
                            .with_help_opt(did_you_mean(
                                &name.value,
                                calendars.keys().map(|k| k.as_str()),
                            )),
                        );
                        None
                    }
                },
                None => default.cloned(),
            };
            let mut events = Vec::new();
            let mut ids = BTreeSet::new();
            for e in &doc.events {
                let e = &e.value;
                if !event_types.contains(&e.kind.value.as_str()) {
                    self.diags.push(
                        Diagnostic::error(
                            "event-type",
                            file,
                            e.kind.span,
                            format!("unknown event type `{}`", e.kind.value),
                        )
                        .with_help(event_type_help(&e.kind.value, event_types)),
                    );
                }
                if e.day.value < 0 || e.day.value > 3660 {
                    self.diags.push(Diagnostic::error(
                        "event-day",
                        file,
                        e.day.span,
                        format!("day `{}` is outside 0..3660", e.day.value),
                    ));
                }
                if !ids.insert(e.id.value.0.clone()) {
                    self.diags.push(Diagnostic::error(
                        "duplicate-name",
                        file,
                        e.id.span,
                        format!("event id `{}` is used twice in this template", e.id.value.0),
                    ));
                }
                events.push(Event {
                    rule_ref: format!("template:{}/{}", doc.template.value, e.id.value.0).into(),
                    id: e.id.value.0.as_str().into(),
                    kind: e.kind.value.as_str().into(),
                    day: e.day.value,
                    params: Arc::new(
                        e.params
                            .iter()
                            .map(|(k, v)| (k.clone(), v.value.0.clone()))
                            .collect(),
                    ),
                });
            }
            if out.contains_key(&doc.template.value) {
                self.diags.push(Diagnostic::error(
                    "duplicate-name",
                    file,
                    doc.template.span,
                    format!("template `{}` is declared twice", doc.template.value),
                ));
            }
            if let Some(calendar) = calendar {
                out.insert(
                    doc.template.value.clone(),
                    Template {
                        name: doc.template.value.clone(),
                        calendar,
                        events,
                    },
                );
            }
        }
        out
    }

    fn experiments(
        &mut self,
        docs: &RuleDocs,
        policy: &PolicyDoc,
        templates: &HashMap<String, Template>,
    ) -> Vec<ClassExperiment> {
        let mut out = Vec::new();
        for name in &policy.experiments {
            let Some((file, doc)) = docs
                .experiments
                .iter()
                .find(|(_, d)| d.experiment.value == name.value)
            else {
                let help = did_you_mean(
                    &name.value,
                    docs.experiments
                        .iter()
                        .map(|(_, d)| d.experiment.value.as_str()),
                );
                self.error(
                    "unknown-reference",
                    name.span,
                    format!("unknown experiment `{}`", name.value),
                )
                .help = help;
                continue;
            };
            let mut arms = Vec::new();
            for arm in &doc.arms {
                let arm = &arm.value;
                let text = arm.share.value.0.trim().trim_end_matches('%').trim();
                let share = crate::decimal::parse_decimal(text)
                    .and_then(experiment::percent_to_basis_points);
                let Some(share) = share else {
                    self.diags.push(
                        Diagnostic::error("experiment", file, arm.share.span, format!("`{}` is not a share", arm.share.value.0))
                            .with_help("write a percentage from 0% to 100% with at most two decimals, e.g. `12.5%`"),
                    );
                    continue;
                };
                if let Some(t) = &arm.template {
                    if !templates.contains_key(&t.value) {
                        self.diags.push(
                            Diagnostic::error(
                                "unknown-reference",
                                file,
                                t.span,
                                format!("unknown template `{}`", t.value),
                            )
                            .with_help_opt(did_you_mean(
                                &t.value,
                                templates.keys().map(|k| k.as_str()),
                            )),
                        );
                    }
                }
                arms.push(Arm {
                    rule_ref: format!("experiment:{}/{}", doc.experiment.value, arm.name.value)
                        .into(),
                    name: arm.name.value.clone(),
                    share,
                    template: arm.template.as_ref().map(|t| t.value.clone()),
                    holdout: arm.holdout,
                });
            }
            let experiment = Experiment {
                name: doc.experiment.value.clone(),
                salt: doc.salt.value.clone(),
                arms,
            };
            if experiment.arms.len() == doc.arms.len() {
                for problem in experiment.validate() {
                    self.diags.push(Diagnostic::error(
                        "experiment",
                        file,
                        doc.experiment.span,
                        problem,
                    ));
                }
            }
            out.push(ClassExperiment {
                experiment,
                classes: doc.classes.iter().map(|c| c.value.clone()).collect(),
            });
        }
        for (file, doc) in &docs.experiments {
            if !policy
                .experiments
                .iter()
                .any(|n| n.value == doc.experiment.value)
            {
                self.diags.push(
                    Diagnostic::warning(
                        "unused",
                        file,
                        doc.experiment.span,
                        format!(
                            "experiment `{}` is not listed in the policy",
                            doc.experiment.value
                        ),
                    )
                    .with_help("add it to the policy's `experiments`, or delete it"),
                );
            }
        }
        out
    }

    /// The table for a role, checked to have the outputs the role reads.
    /// A flag table: any hit policy, once per account; every output is reported.
    fn flag_role(&mut self, name: &Spanned<String>) -> Option<Role> {
        let Some(index) = self
            .program
            .tables
            .iter()
            .position(|t| t.name == name.value)
        else {
            let help = did_you_mean(
                &name.value,
                self.program.tables.iter().map(|t| t.name.as_str()),
            );
            self.error(
                "unknown-reference",
                name.span,
                format!("unknown table `{}` for `flags`", name.value),
            )
            .help = help;
            return None;
        };
        let table = &self.program.tables[index];
        if table.for_each.is_some() || !table.params.is_empty() {
            let message = format!("the flag table `{}` must run once per account", table.name);
            self.error("policy", name.span, message);
            return None;
        }
        Some(Role {
            table: index as u32,
            columns: [None; Out::COUNT],
        })
    }

    fn role(
        &mut self,
        name: &Spanned<String>,
        role: &str,
        per_sa_or_item: bool,
        wants: &[(Out, Want, bool)],
    ) -> Option<Role> {
        let Some(index) = self
            .program
            .tables
            .iter()
            .position(|t| t.name == name.value)
        else {
            let help = did_you_mean(
                &name.value,
                self.program.tables.iter().map(|t| t.name.as_str()),
            );
            self.error(
                "unknown-reference",
                name.span,
                format!("unknown table `{}` for `{role}`", name.value),
            )
            .help = help;
            return None;
        };
        let table: &Table = &self.program.tables[index];
        if per_sa_or_item != table.for_each.is_some() {
            let message = if per_sa_or_item {
                format!(
                    "the `{role}` table `{}` must run per item: give it `for_each`",
                    table.name
                )
            } else {
                format!(
                    "the `{role}` table `{}` must run once per account, not `for_each`",
                    table.name
                )
            };
            self.error("policy", name.span, message);
        }
        if matches!(
            table.hit,
            crate::lang::ir::HitPolicy::Collect | crate::lang::ir::HitPolicy::RuleOrder
        ) {
            let hit = table.hit.name();
            self.error(
                "policy",
                name.span,
                format!(
                    "the `{role}` table `{}` must decide one row, not `hit: {hit}`",
                    table.name
                ),
            )
            .help = Some("use `first`, `unique`, `priority` or `any`".into());
        }
        let mut columns = [None; Out::COUNT];
        for &(out, want, required) in wants {
            let col = out.name();
            match table.outputs.iter().position(|o| o.name == col) {
                Some(i) => {
                    let ty = &table.outputs[i].ty;
                    if !self.fits(ty, want) {
                        let shown = crate::types::ShowType(ty, self.schema()).to_string();
                        let wanted = self.want_name(want);
                        self.error("policy", name.span, format!("output `{col}` of the `{role}` table `{}` is {shown}; `{role}` needs {wanted}", table.name));
                    }
                    columns[out as usize] = Some(i as u32);
                }
                None => {
                    // An output spelled close to the missing column is a typo, not an extra output.
                    let typo = table
                        .outputs
                        .iter()
                        .map(|o| o.name.as_str())
                        .filter(|o| !wants.iter().any(|(w, _, _)| w.name() == *o))
                        .map(|o| (strsim::jaro_winkler(o, col), o))
                        .filter(|(score, _)| *score > 0.8)
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .map(|(_, o)| o);
                    let wanted = self.want_name(want);
                    let message = match typo {
                        Some(t) => format!(
                            "the `{role}` table `{}` has no output `{col}`, but an output `{t}`",
                            table.name
                        ),
                        None if required => {
                            format!("the `{role}` table `{}` has no output `{col}`", table.name)
                        }
                        None => continue,
                    };
                    let help = match typo {
                        Some(t) => format!(
                            "rename `{t}` to `{col}` ({wanted}): the `{role}` area reads `{col}`"
                        ),
                        None => format!("add an output `{col}` ({wanted})"),
                    };
                    let span = typo.and_then(|t| self.output_span(&table.name, t));
                    let file = if span.is_some() {
                        table.file.clone()
                    } else {
                        self.file.clone()
                    };
                    self.diags.push(
                        Diagnostic::error("policy", &file, span.unwrap_or(name.span), message)
                            .with_help(help),
                    );
                }
            }
        }
        Some(Role {
            table: index as u32,
            columns,
        })
    }

    /// Where a table declares an output (its type cell).
    fn output_span(&self, table: &str, output: &str) -> Option<crate::source::Span> {
        let (_, doc) = self
            .docs
            .tables
            .iter()
            .find(|(_, t)| t.table.value == table)?;
        doc.outputs.value.get(output).map(|ty| ty.span)
    }

    /// A constant instalment count outside 0..=36 in the payment-plan table is
    /// an error at its cell (a computed one is checked per account).
    fn check_instalment_counts(&mut self, role: &Role) {
        let Some(col) = role.col(Out::Instalments) else {
            return;
        };
        let table = &self.program.tables[role.table as usize];
        let Some((file, doc)) = self
            .docs
            .tables
            .iter()
            .find(|(_, t)| t.table.value == table.name)
        else {
            return;
        };
        let rows = table
            .rows
            .iter()
            .zip(&doc.rows)
            .map(|(r, d)| {
                (
                    &r.outputs[col],
                    format!("row `{}`", r.id),
                    d.value
                        .then
                        .value
                        .get(Out::Instalments.name())
                        .map(|c| c.span)
                        .unwrap_or(d.span),
                )
            })
            .chain(table.default.iter().zip(&doc.default).map(|(outputs, d)| {
                (
                    &outputs[col],
                    "the default".to_string(),
                    d.value
                        .get(Out::Instalments.name())
                        .map(|c| c.span)
                        .unwrap_or(d.span),
                )
            }));
        for (expr, row, span) in rows {
            if let TExprKind::Const(Value::Int(n)) = expr.kind {
                if !(0..=MAX_PLAN_INSTALMENTS).contains(&n) {
                    self.diags.push(
                        Diagnostic::error(
                            "policy",
                            file,
                            span,
                            format!("{row} of the payment-plan table `{}` offers {n} instalments; an offer has at most {MAX_PLAN_INSTALMENTS}", table.name),
                        )
                        .with_help(format!("offer 1 to {MAX_PLAN_INSTALMENTS} monthly instalments, or 0 for no offer")),
                    );
                }
            }
        }
    }

    /// Resolves the variants the pipeline reads (see [`Variants`]).
    fn variants(&mut self, entry: Option<&Role>, span: crate::source::Span) -> Variants {
        let schema = self.program.schema.clone();
        let no_case = entry.and_then(|r| {
            let col = r.col(Out::Category)?;
            match self.program.tables[r.table as usize].outputs[col].ty {
                Type::Enum(e) => schema.variant(e, "none"),
                _ => None,
            }
        });
        let mut unknown = Vec::new();
        let mut resolve = |name: &str| -> Vec<String> {
            let Some(e) = schema.enum_by_name(name) else {
                unknown.push(format!("enum `{name}`"));
                return Vec::new();
            };
            schema.enum_def(e).variants.clone()
        };
        let tolerance_names = resolve("tolerance_rule");
        let follow_up_names = resolve("follow_up");
        let status_names = resolve("promise_status");
        let tolerance_rule = tolerance_names
            .iter()
            .map(|v| {
                promise::ToleranceRule::from_name(v).unwrap_or_else(|| {
                    unknown.push(format!("`tolerance_rule` variant `{v}`"));
                    promise::ToleranceRule::Amount
                })
            })
            .collect();
        let follow_up = follow_up_names
            .iter()
            .map(|v| {
                FollowUp::from_name(v).unwrap_or_else(|| {
                    unknown.push(format!("`follow_up` variant `{v}`"));
                    FollowUp::None
                })
            })
            .collect();
        let promise_status = ["pending", "kept", "broken"].map(|s| {
            status_names.iter().position(|v| v == s).map_or_else(
                || {
                    unknown.push(format!("`promise_status` variant `{s}`"));
                    0
                },
                |i| i as u32,
            )
        });
        if !unknown.is_empty() {
            // Only if the built-in enums and the pipeline disagree: a bug, reported, never guessed around.
            self.error(
                "policy",
                span,
                format!("the pipeline cannot read {}", unknown.join(", ")),
            );
        }
        Variants {
            no_case,
            tolerance_rule,
            follow_up,
            promise_status,
        }
    }

    fn fits(&self, ty: &Type, want: Want) -> bool {
        match want {
            Want::Enum => matches!(ty, Type::Enum(_)),
            Want::Text => *ty == Type::Text,
            Want::TextOrEnum => matches!(ty, Type::Text | Type::Enum(_)),
            Want::Bool => *ty == Type::Bool,
            Want::Money => *ty == Type::Money,
            Want::Decimal => *ty == Type::Decimal,
            Want::Integer => *ty == Type::Integer,
            Want::DaysOrInteger => matches!(ty, Type::Days | Type::Integer),
            Want::Date => *ty == Type::Date,
            Want::Named(n) => matches!(ty, Type::Enum(e) if self.schema().enum_def(*e).name == n),
        }
    }

    fn want_name(&self, want: Want) -> String {
        match want {
            Want::Enum => "an enum".into(),
            Want::Text => "text".into(),
            Want::TextOrEnum => "text or an enum".into(),
            Want::Bool => "bool".into(),
            Want::Money => "money".into(),
            Want::Decimal => "decimal".into(),
            Want::Integer => "integer".into(),
            Want::DaysOrInteger => "days".into(),
            Want::Date => "date".into(),
            Want::Named(n) => format!("the built-in enum `{n}`"),
        }
    }

    /// Every constant `template` output of the class table names a template.
    fn check_template_outputs(
        &mut self,
        role: &Role,
        templates: &HashMap<String, Template>,
        name: &Spanned<String>,
    ) {
        let Some(col) = role.col(Out::Template) else {
            return;
        };
        let table = &self.program.tables[role.table as usize];
        let rows = table
            .rows
            .iter()
            .map(|r| (r.output_spans[col], &r.outputs[col]))
            .chain(table.default.iter().map(|d| (table.span, &d[col])));
        let mut problems = Vec::new();
        for (span, expr) in rows {
            if let TExprKind::Const(Value::Text(t)) = &expr.kind {
                if !templates.contains_key(t.as_ref()) {
                    problems.push((span, t.to_string()));
                }
            }
        }
        let file = table.file.clone();
        for (span, t) in problems {
            self.diags.push(
                Diagnostic::error(
                    "unknown-reference",
                    &file,
                    span,
                    format!(
                        "the class table `{}` assigns unknown template `{t}`",
                        name.value
                    ),
                )
                .with_help_opt(did_you_mean(&t, templates.keys().map(|k| k.as_str()))),
            );
        }
    }

    /// The constant values an area table's column gives (rows and default, null
    /// left out), as text; `None` when one is computed, so it is known only per account.
    fn constant_outputs(&self, role: &Role, out: Out) -> Option<BTreeSet<String>> {
        let col = role.col(out)?;
        let table = &self.program.tables[role.table as usize];
        let mut names = BTreeSet::new();
        let outputs = table.rows.iter().map(|r| &r.outputs[col]);
        for expr in outputs.chain(table.default.iter().map(|d| &d[col])) {
            match (&expr.kind, &table.outputs[col].ty) {
                (TExprKind::Const(Value::Null), _) => {}
                (TExprKind::Const(Value::Text(t)), _) => {
                    names.insert(t.to_string());
                }
                (TExprKind::Const(Value::Enum(v)), Type::Enum(e)) => {
                    names.insert(self.schema().enum_def(*e).variants[*v as usize].clone());
                }
                _ => return None,
            }
        }
        Some(names)
    }

    /// Templates no class-table row or experiment arm names, and experiment
    /// classes no class-table row assigns: configuration no new case reaches.
    /// Skipped when the class table computes the column (its values are unknown here).
    fn check_unassigned(&mut self, docs: &RuleDocs, policy: &PolicyDoc, class: &Role) {
        let class_table = self.program.tables[class.table as usize].name.clone();
        if let Some(mut named) = self.constant_outputs(class, Out::Template) {
            // Every experiment's arms, listed or not: an unlisted one is reported itself.
            let arms = docs.experiments.iter().flat_map(|(_, d)| &d.arms);
            named.extend(arms.filter_map(|a| a.value.template.as_ref().map(|t| t.value.clone())));
            for (file, doc) in &docs.templates {
                if named.contains(&doc.template.value) {
                    continue;
                }
                self.diags.push(
                    Diagnostic::warning(
                        "unused",
                        file,
                        doc.template.span,
                        format!(
                            "template `{}` is never assigned: no row of the class table `{class_table}` and no experiment arm names it",
                            doc.template.value
                        ),
                    )
                    .with_help(format!(
                        "name it in a `template` output of `{class_table}` or an arm's `template`, or delete it once no open case names it"
                    )),
                );
            }
        }
        let Some(classes) = self.constant_outputs(class, Out::Class) else {
            return;
        };
        let listed = docs.experiments.iter().filter(|(_, d)| {
            policy
                .experiments
                .iter()
                .any(|n| n.value == d.experiment.value)
        });
        for (file, doc) in listed {
            for aimed in doc.classes.iter().filter(|c| !classes.contains(&c.value)) {
                let help = did_you_mean(&aimed.value, classes.iter().map(String::as_str))
                    .unwrap_or_else(|| {
                        let assigned: Vec<String> =
                            classes.iter().map(|c| format!("`{c}`")).collect();
                        format!("`{class_table}` assigns {}", assigned.join(", "))
                    });
                self.diags.push(
                    Diagnostic::warning(
                        "unused",
                        file,
                        aimed.span,
                        format!(
                            "experiment `{}` is aimed at class `{}`, which no row of the class table `{class_table}` assigns",
                            doc.experiment.value, aimed.value
                        ),
                    )
                    .with_help(help),
                );
            }
        }
    }

    /// Rows of the follow-up table no asked promise can reach. The pipeline asks
    /// it only about a promise kept with arrears remaining or a broken one
    /// (`run.rs`): a pending promise waits, a kept one with arrears paid in full
    /// closes the case first. Only cells on `promise.status` and
    /// `promise.arrears_paid_in_full` against constants are judged.
    fn check_follow_up_rows(&mut self, role: &Role) {
        let table = &self.program.tables[role.table as usize];
        let schema = self.schema();
        let promise = schema.record(schema.promise_record);
        let Some(status_enum) = schema.enum_by_name("promise_status") else {
            return;
        };
        let (Some(kept), Some(broken)) = (
            schema.variant(status_enum, "kept"),
            schema.variant(status_enum, "broken"),
        ) else {
            return;
        };
        // The input column that reads `promise.<field>` as it is.
        let column = |field: &str| {
            let slot = promise.slot(field)? as u32;
            table.inputs.iter().position(|i| {
                matches!(&i.expr.kind, TExprKind::Field(base, s)
                    if *s == slot && matches!(base.kind, TExprKind::Local(0)))
            })
        };
        let (status, paid) = (column("status"), column("arrears_paid_in_full"));
        let asked = [(kept, false), (broken, false), (broken, true)];
        let mut never_asked = Vec::new();
        for (r, row) in table.rows.iter().enumerate() {
            let may_pass = |col: Option<usize>, value: Value| {
                col.is_none_or(|c| cell_admits(&row.cells[c], &value) != Some(false))
            };
            let reachable = asked
                .iter()
                .any(|&(s, p)| may_pass(status, Value::Enum(s)) && may_pass(paid, Value::Bool(p)));
            if !reachable {
                // Point at the status cell if the row has one, else the paid-in-full cell.
                let cell = [status, paid]
                    .into_iter()
                    .flatten()
                    .find(|&c| !row.cells[c].tests.is_empty() || row.cells[c].negated);
                never_asked.push((r, cell.map(|c| table.inputs[c].name.clone())));
            }
        }
        let Some((file, doc)) = self
            .docs
            .tables
            .iter()
            .find(|(_, t)| t.table.value == table.name)
        else {
            return;
        };
        for (r, input) in never_asked {
            let row = &doc.rows[r];
            let span = input
                .and_then(|i| row.value.when.get(&i))
                .map_or(row.span, |c| c.span);
            self.diags.push(
                Diagnostic::warning(
                    "unreachable-row",
                    file,
                    span,
                    format!(
                        "row `{}` of the follow-up table `{}` is never asked: the pipeline asks it only about promises kept with arrears remaining and broken promises",
                        table.rows[r].id, table.name
                    ),
                )
                .with_help("a pending promise is not followed up yet, and a kept one with arrears paid in full closes the case first; change the row's cells or delete it"),
            );
        }
    }

    /// Resolves the snapshot fields the pipeline reads.
    fn slots(&mut self, doc: &PolicyDoc) -> Option<Slots> {
        let schema = self.program.schema.clone();
        let account = schema.account();
        let mut missing = Vec::new();
        let arrears = field(
            account,
            "account",
            "arrears",
            |t| *t == Type::Money,
            "money",
        )
        .map_err(|m| missing.push(m))
        .ok();
        let case = field(
            account,
            "account",
            "case",
            |t| matches!(t, Type::Record(_)),
            "an optional record: the open case",
        )
        .and_then(|s| {
            let Type::Record(r) = account.fields[s].ty else {
                return Err("`account.case` (a record)".to_string());
            };
            let rec = schema.record(r);
            let start_date = field(
                rec,
                "account.case",
                "start_date",
                |t| *t == Type::Date,
                "date",
            )?;
            let template = rec
                .slot("template")
                .filter(|&t| rec.fields[t].ty == Type::Text);
            Ok(CaseSlots {
                slot: s,
                start_date,
                template,
            })
        })
        .map_err(|m| missing.push(m))
        .ok();
        let service_agreements = if doc.sa_exit.is_some() || doc.severance.is_some() {
            list_of_records(account, "account", "service_agreements")
                .and_then(|(s, r)| {
                    let rec = schema.record(r);
                    let path = "account.service_agreements[]";
                    let id = field(rec, path, "id", |t| *t == Type::Text, "text")?;
                    let arrears = field(rec, path, "arrears", |t| *t == Type::Money, "money")?;
                    Ok((s, SaSlots { id, arrears }))
                })
                .map_err(|m| missing.push(m))
                .ok()
        } else {
            None
        };
        let promises = if doc.promise_terms.is_some() {
            list_of_records(account, "account", "promises")
                .and_then(|(s, r)| {
                    let rec = schema.record(r);
                    let path = "account.promises[]";
                    let id = field(rec, path, "id", |t| *t == Type::Text, "text")?;
                    let amount = field(rec, path, "amount", |t| *t == Type::Money, "money")?;
                    let due_date = field(rec, path, "due_date", |t| *t == Type::Date, "date")?;
                    let plan = rec.slot("plan").filter(|&p| rec.fields[p].ty == Type::Text);
                    let (payments, pr) = list_of_records(rec, path, "payments")?;
                    let prec = schema.record(pr);
                    let ppath = "account.promises[].payments[]";
                    let payment_amount =
                        field(prec, ppath, "amount", |t| *t == Type::Money, "money")?;
                    let payment_date = field(prec, ppath, "date", |t| *t == Type::Date, "date")?;
                    Ok((
                        s,
                        PromiseSlots {
                            id,
                            amount,
                            due_date,
                            plan,
                            payments,
                            payment_amount,
                            payment_date,
                        },
                    ))
                })
                .map_err(|m| missing.push(m))
                .ok()
        } else {
            None
        };
        if !missing.is_empty() {
            self.error(
                "policy",
                doc.policy.span,
                format!(
                    "the policy needs schema fields it cannot find: {}",
                    missing.join(", ")
                ),
            )
            .help = Some(
                "declare them in the schema (docs/rule-files.md lists the fields each area reads)"
                    .into(),
            );
            return None;
        }
        Some(Slots {
            arrears: arrears?,
            case,
            service_agreements,
            promises,
        })
    }
}

/// Whether a condition cell passes a constant value; `None` when it compares
/// with something computed.
fn cell_admits(cell: &TCell, value: &Value) -> Option<bool> {
    if cell.tests.is_empty() && !cell.negated {
        return Some(true);
    }
    let constant = |e: &TExpr| match &e.kind {
        TExprKind::Const(v) => Some(v.clone()),
        _ => None,
    };
    let mut any = false;
    for test in &cell.tests {
        any |= match test {
            TTest::Compare(op, e) => crate::lang::semantics::compare(*op, value, &constant(e)?),
            TTest::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => crate::lang::semantics::in_range(
                value,
                &constant(low)?,
                *low_inclusive,
                &constant(high)?,
                *high_inclusive,
            ),
        };
    }
    Some(any != cell.negated)
}

/// The slot of a field whose type passes `ok`, or what is missing.
fn field(
    record: &crate::data::schema::RecordDef,
    path: &str,
    name: &str,
    ok: impl Fn(&Type) -> bool,
    want: &str,
) -> Result<usize, String> {
    match record.slot(name) {
        Some(s) if ok(&record.fields[s].ty) => Ok(s),
        _ => Err(format!("`{path}.{name}` ({want})")),
    }
}

fn list_of_records(
    record: &crate::data::schema::RecordDef,
    path: &str,
    name: &str,
) -> Result<(usize, crate::types::RecordId), String> {
    let s = field(
        record,
        path,
        name,
        |t| matches!(t, Type::List(i) if matches!(**i, Type::Record(_))),
        "a list of records",
    )?;
    match &record.fields[s].ty {
        Type::List(inner) => match **inner {
            Type::Record(r) => Ok((s, r)),
            _ => Err(format!("`{path}.{name}` (a list of records)")),
        },
        _ => Err(format!("`{path}.{name}` (a list of records)")),
    }
}

/// The help for an unknown event type: the type it is a synonym of
/// (`send_email` → `email`, `phone_call` → `call`), else the nearest spelling,
/// else the list.
fn event_type_help(kind: &str, event_types: &[&str]) -> String {
    const SYNONYMS: [(&str, &str); 9] = [
        ("letter", "send_letter"),
        ("mail", "send_letter"),
        ("e_mail", "email"),
        ("text", "sms"),
        ("text_message", "sms"),
        ("phone", "call"),
        ("phone_call", "call"),
        ("todo", "create_todo"),
        ("severance", "start_severance"),
    ];
    let lower = kind.to_ascii_lowercase();
    let bare = ["send_", "make_", "place_", "schedule_", "create_", "start_"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
    let synonym = [lower.as_str(), bare]
        .into_iter()
        .find_map(|w| {
            event_types
                .iter()
                .copied()
                .find(|t| *t == w)
                .or_else(|| SYNONYMS.iter().find(|(s, _)| *s == w).map(|(_, t)| *t))
        })
        .filter(|t| *t != kind);
    match synonym {
        Some(t) => format!("did you mean `{t}`?"),
        None => did_you_mean(kind, event_types.iter().copied())
            .unwrap_or_else(|| format!("event types: {}", event_types.join(", "))),
    }
}
