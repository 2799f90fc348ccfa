//! Area contracts: each area table must exist, run per account or per item as
//! its area does, decide one row, and have the output columns its area reads
//! with the right types (`role`, `flag_role`); a near-miss output name is
//! reported as a typo at its declaration. Also resolves the built-in enum
//! variants the pipeline reads (`variants`). It must not read the policy
//! document (that is `wiring`) nor judge rows' values (`area_rows`).

use super::areas::{FollowUp, Out, Role, Variants};
use super::{promise, Builder};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::lang::ir::Table;
use crate::model::spanned::Spanned;
use crate::types::Type;

/// What an output column must be for its role.
#[derive(Clone, Copy)]
pub(super) enum Want {
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
impl Builder<'_> {
    /// The index of the table the policy names for `role`; an unknown name is
    /// reported at it, with the nearest table name.
    fn table_for(&mut self, name: &Spanned<String>, role: &str) -> Option<usize> {
        let index = self
            .program
            .tables
            .iter()
            .position(|t| t.name == name.value);
        if role != "guardrails" && self.docs.guardrails.contains(&name.value) {
            self.error(
                "policy",
                name.span,
                format!(
                    "`{}` is a guard rail: it applies to every action by itself and cannot play `{role}`",
                    name.value
                ),
            )
            .help = Some("name a strategy table here; guard rails are not wired by the policy".into());
            return None;
        }
        if index.is_none() {
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
        }
        index
    }

    /// The table for a role, checked to have the outputs the role reads.
    /// A flag table: any hit policy, once per account; every output is reported.
    pub(super) fn flag_role(&mut self, name: &Spanned<String>) -> Option<Role> {
        let index = self.table_for(name, "flags")?;
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

    /// Every guard rail of the rules directory, checked against the guard
    /// contract; a policy without any is warned about (`no-guardrails`).
    pub(super) fn guard_roles(&mut self, doc: &crate::model::doc::PolicyDoc) -> Vec<Role> {
        let docs = self.docs;
        if docs.guardrails.is_empty() {
            self.diags.push(
                Diagnostic::warning(
                    "no-guardrails",
                    self.file,
                    doc.policy.span,
                    format!("the policy `{}` has no guard-rail pack: nothing stops a strategy from contacting a bankrupt or deceased customer", doc.policy.value),
                )
                .with_help("add `guardrails:` documents (rules/guardrails/, docs/guardrails.md)"),
            );
        }
        let mut roles = Vec::new();
        for (file, table) in &docs.tables {
            if !docs.guardrails.contains(&table.table.value) {
                continue;
            }
            // Reported at the guard rail's own name, in its own file.
            let policy_file = std::mem::replace(&mut self.file, file);
            let role = self.role(
                &table.table,
                "guardrails",
                false,
                &[
                    (Out::Effect, Want::Named("guard_effect"), true),
                    (Out::Until, Want::Date, false),
                    (Out::Channel, Want::Named("contact_channel"), false),
                    (Out::Reason, Want::Text, false),
                    (Out::WindowStart, Want::Text, false),
                    (Out::WindowEnd, Want::Text, false),
                ],
            );
            self.file = policy_file;
            roles.extend(role);
        }
        roles
    }

    /// The callback table runs once per disposition: its `for_each` is `account.dispositions`,
    /// whose items the pipeline reads by the decisions' item numbers.
    pub(super) fn check_callback_list(
        &mut self,
        role: &Role,
        name: &Spanned<String>,
        slots: &super::Slots,
    ) {
        use crate::lang::ir::TExprKind;
        let Some((list, _)) = slots.dispositions else {
            return;
        };
        let table = &self.program.tables[role.table as usize];
        let over_dispositions = table.for_each.as_ref().is_some_and(|f| {
            matches!(&f.list.kind, TExprKind::Field(inner, slot)
                if matches!(inner.kind, TExprKind::Account) && *slot as usize == list)
        });
        if table.for_each.is_some() && !over_dispositions {
            let message = format!(
                "the `callback` table `{}` must run per disposition: `for_each: d in account.dispositions`",
                table.name
            );
            self.error("policy", name.span, message);
        }
    }

    pub(super) fn role(
        &mut self,
        name: &Spanned<String>,
        role: &str,
        per_sa_or_item: bool,
        wants: &[(Out, Want, bool)],
    ) -> Option<Role> {
        let index = self.table_for(name, role)?;
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
                    // A retreat table written before `restart` existed: the
                    // pipeline decides as it did then (`Ctx::retreatment`), so
                    // the rules in production still load as a `diff` base.
                    if typo.is_none() && out == Out::Restart {
                        self.diags.push(
                            Diagnostic::warning(
                                "policy",
                                self.file,
                                name.span,
                                format!(
                                    "the `{role}` table `{}` has no output `{col}`: the pipeline decides as before it existed \
                                     (a class change waits for a pending promise; into the same treatment only the class is reassigned)",
                                    table.name
                                ),
                            )
                            .with_help(format!(
                                "add an output `{col}` ({wanted}): true re-treats the case from today, false only reassigns its class, \
                                 so the rows say it with `retreat.promise_pending` and `retreat.same_treatment` (docs/policy.md)"
                            )),
                        );
                        continue;
                    }
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

    /// Resolves the variants the pipeline reads (see [`Variants`]).
    pub(super) fn variants(&mut self, entry: Option<&Role>, span: crate::source::Span) -> Variants {
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
        let plan_tolerance_names = resolve("plan_tolerance");
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
        let plan_tolerance = plan_tolerance_names
            .iter()
            .map(|v| {
                promise::PlanTolerance::from_name(v).unwrap_or_else(|| {
                    unknown.push(format!("`plan_tolerance` variant `{v}`"));
                    promise::PlanTolerance::Cumulative
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
            plan_tolerance,
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
}
