//! Running cases: each selected case's account through the policy (or the
//! tables alone), its actions, fired rows and table outputs compared with what
//! it expects, one line per unmet expectation. It must not decide anything
//! itself: cases run through the same policy and evaluator as `dry-run`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value as Json;

use super::document::{CaseDoc, CaseSetup, TestDocument};
use super::{Subject, TestFileError};
use crate::diagnostic::Diagnostic;
use crate::eval::{Decision, Evaluation};
use crate::lang::compile::Plan;
use crate::testing::expect::{actions_json, expected_actions, same};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    Pass,
    /// Expectations not met, one line each.
    Fail(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub suite: String,
    pub file: String,
    pub line: usize,
    pub name: String,
    pub outcome: CaseOutcome,
    /// `(table, row)` of every row that fired.
    pub fired: BTreeSet<(u32, u32)>,
    /// With `explain`, the traced evaluation of a failing case.
    pub explanation: Option<Evaluation>,
    /// The evaluation date of an account case; none for a timeline (its days are its own).
    pub as_of: Option<chrono::NaiveDate>,
}

impl TestDocument {
    /// How many cases `filter` (a substring of the name) selects; all without one.
    pub fn selected(&self, filter: Option<&str>) -> usize {
        self.doc
            .cases
            .iter()
            .filter(|c| selects(filter, &c.value))
            .count()
    }

    /// Runs the cases `filter` selects (all without one). With `explain`,
    /// failing cases keep their traced evaluation.
    pub fn run(&self, subject: &Subject, explain: bool, filter: Option<&str>) -> Vec<CaseResult> {
        let plan = subject.plan();
        let mut results = Vec::new();
        for (case, setup) in self.doc.cases.iter().zip(&self.setups) {
            let case_doc = &case.value;
            if !selects(filter, case_doc) {
                continue;
            }
            let (line, _) = self.file.line_col(case.span.start);
            let mut problems = Vec::new();
            let mut fired = BTreeSet::new();
            let mut explanation = None;
            let as_of = match setup {
                // A case runs only when its document has no problem: its date was read.
                CaseSetup::Account(as_of) => as_of.unwrap_or_default(),
                CaseSetup::Timeline(timeline) => {
                    match subject {
                        Subject::Policy(policy) => {
                            (problems, fired) = timeline.run(case_doc, policy);
                        }
                        Subject::Tables(_) => {
                            problems.push("`timeline` needs a policy; these rules have none".into())
                        }
                    }
                    results.push(self.result(case_doc, line, problems, fired, None, None));
                    continue;
                }
            };
            let account = match &case_doc.account {
                Some(account) => self.account(account, plan),
                None => Err("the case names no `account`".into()),
            };
            match account {
                Err(problem) => problems.push(problem),
                Ok(account) => {
                    let outcome = match subject {
                        Subject::Policy(policy) => {
                            crate::policy::run(policy, &account, as_of, explain)
                                .map(|r| (r.evaluation, Some(r.actions)))
                        }
                        Subject::Tables(plan) => {
                            crate::eval::evaluate(plan, &account, as_of, explain).map(|e| (e, None))
                        }
                    };
                    match outcome {
                        Err(err) => problems.push(format!("evaluation failed: {err}")),
                        Ok((evaluation, actions)) => {
                            fired = fired_rows(&evaluation);
                            check_case(
                                plan,
                                case_doc,
                                &evaluation,
                                actions.as_deref(),
                                &mut problems,
                            );
                            if explain && !problems.is_empty() {
                                explanation = Some(evaluation);
                            }
                        }
                    }
                }
            }
            results.push(self.result(case_doc, line, problems, fired, explanation, Some(as_of)));
        }
        results
    }

    fn result(
        &self,
        case: &CaseDoc,
        line: usize,
        problems: Vec<String>,
        fired: BTreeSet<(u32, u32)>,
        explanation: Option<Evaluation>,
        as_of: Option<chrono::NaiveDate>,
    ) -> CaseResult {
        CaseResult {
            suite: self.doc.tests.value.clone(),
            file: self.file.name.clone(),
            line,
            name: case.name.value.clone(),
            outcome: if problems.is_empty() {
                CaseOutcome::Pass
            } else {
                CaseOutcome::Fail(problems)
            },
            fired,
            explanation,
            as_of,
        }
    }
}

fn selects(filter: Option<&str>, case: &CaseDoc) -> bool {
    filter.is_none_or(|f| case.name.value.contains(f))
}

/// Reads, checks and runs every case of one test document against `subject`;
/// the first problem of an unusable document is the error.
pub fn run_file(
    subject: &Subject,
    path: &Path,
    explain: bool,
) -> Result<Vec<CaseResult>, TestFileError> {
    let doc = TestDocument::read(path).map_err(|p| first_problem(&p))?;
    let problems = doc.check(subject, None);
    if !problems.is_empty() {
        return Err(first_problem(&problems));
    }
    Ok(doc.run(subject, explain, None))
}

fn first_problem(problems: &[Diagnostic]) -> TestFileError {
    problems.first().map_or_else(
        || TestFileError {
            location: String::new(),
            message: "unusable test document".into(),
        },
        TestFileError::from,
    )
}

fn fired_rows(evaluation: &Evaluation) -> BTreeSet<(u32, u32)> {
    evaluation.fired_rows().collect()
}

fn check_case(
    plan: &Plan,
    case: &CaseDoc,
    evaluation: &Evaluation,
    actions: Option<&[crate::policy::Action]>,
    problems: &mut Vec<String>,
) {
    if case.actions.is_some() || case.contains.is_some() || case.excludes.is_some() {
        match actions {
            None => problems.push(
                "`actions`, `contains` and `excludes` need a policy; these rules have none (expect `decisions` or `rows`)"
                    .into(),
            ),
            Some(actions) => problems.extend(expected_actions(
                &case.actions,
                &case.contains,
                &case.excludes,
                &actions_json(actions),
            )),
        }
    }
    let fired: BTreeSet<String> = fired_rows(evaluation)
        .into_iter()
        .map(|(t, r)| plan.tables[t as usize].row_refs[r as usize].to_string())
        .collect();
    for row in case.rows.iter().flatten() {
        let row = &row.value;
        if !fired.contains(row) {
            let table = row.split(':').next().unwrap_or_default();
            let fired_here: Vec<&str> = fired
                .iter()
                .filter(|f| f.split(':').next() == Some(table))
                .map(|s| s.as_str())
                .collect();
            problems.push(format!(
                "row `{row}` did not fire{}",
                if fired_here.is_empty() {
                    String::new()
                } else {
                    format!(" (fired: {})", fired_here.join(", "))
                }
            ));
        }
    }
    for row in case.rows_not_fired.iter().flatten() {
        if fired.contains(&row.value) {
            problems.push(format!(
                "row `{}` fired; `rows_not_fired` lists it",
                row.value
            ));
        }
    }
    if let Some(decisions) = &case.decisions {
        for (key, want) in decisions {
            let (name, label) = key.parts();
            let key = &key.0.value;
            let Some(t) = plan.tables.iter().position(|t| t.table.name == name) else {
                problems.push(format!("`decisions`: no table `{name}`"));
                continue;
            };
            let found = evaluation
                .decisions
                .iter()
                .find(|d| d.table == t as u32 && d.label.as_deref() == label);
            let Some(decision) = found else {
                problems.push(format!("`decisions`: table `{key}` made no decision"));
                continue;
            };
            let got = outputs_json(plan, decision);
            if !same(want, &got) {
                problems.push(format!(
                    "table `{key}`: expected {}, got {}",
                    serde_json::to_string(want).unwrap_or_default(),
                    serde_json::to_string(&got).unwrap_or_default()
                ));
            }
        }
    }
}

/// A decision's outputs as JSON: one object, or a list for multi-row results.
pub fn outputs_json(plan: &Plan, d: &Decision) -> Json {
    plan.decision_json(d)
}
