//! A test document checked against its rules: rows, tables and outputs it
//! names exist, expected actions are well formed (and need a policy), accounts
//! are found and decode; and `arrears lint`'s check of every test document,
//! against the rules linted or those a document's `rules:` names. It must not
//! run a case.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::document::{discover, CaseSetup, DecisionKey, TestDocument};
use super::{same_dir, Subject, TestFileError, CODE};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::lang::compile::Plan;
use crate::model::spanned::Spanned;
use crate::policy::Rulebook;
use crate::source::Span;
use crate::testing::expect::malformed_actions;

/// Effective-dated rules, as a test document is checked against one of
/// their rule sets (by `arrears lint` and `arrears test` alike): whether the
/// set is in force on a day, and when a row it does not have is in force
/// (`from 2020-01-01 until 2020-12-31`), if ever.
pub struct Dating<'a> {
    book: &'a Rulebook,
    set: usize,
}

impl<'a> Dating<'a> {
    /// Rule set `set` of `book`, when the book has more than one.
    pub fn of(book: &'a Rulebook, set: usize) -> Option<Dating<'a>> {
        (book.versions.sets.len() > 1).then_some(Dating { book, set })
    }

    fn in_force(&self, day: chrono::NaiveDate) -> bool {
        self.book.set_on(day) == self.set
    }

    /// The periods of the other rule sets that have `row`, if any.
    fn row_in_force(&self, row: &str) -> Option<String> {
        let book = self.book;
        let periods: Vec<String> = (0..book.versions.sets.len())
            .filter(|&other| other != self.set)
            .filter(|&other| {
                let loaded = book.set(other);
                let plan = loaded
                    .policy
                    .as_ref()
                    .map(|p| &p.plan)
                    .or(loaded.plan.as_ref());
                plan.is_some_and(|plan| {
                    plan.tables
                        .iter()
                        .any(|t| t.row_refs.iter().any(|r| &**r == row))
                })
            })
            .map(|other| book.versions.sets[other].describe())
            .collect();
        (!periods.is_empty()).then(|| periods.join(", "))
    }
}

impl TestDocument {
    /// What reading found, then names the rules do not have (rows, tables,
    /// outputs), expected actions that are malformed or name values no
    /// action has, and accounts that cannot be found or decoded. With
    /// effective-dated rules (`dating`: the rule set `subject` is), a row
    /// `subject` does not have but another rule set does is said to be out
    /// of force on the case's day.
    pub fn check(&self, subject: &Subject, dating: Option<&Dating>) -> Vec<Diagnostic> {
        let plan = subject.plan();
        let error =
            |span: Span, message: String| Diagnostic::error(CODE, &self.file, span, message);
        let row_refs: Vec<&str> = plan
            .tables
            .iter()
            .flat_map(|t| t.row_refs.iter().map(|r| &**r))
            .collect();
        // What the policy's actions can name, gathered once for every case.
        let names = match subject {
            Subject::Policy(policy) => Some(PolicyNames::of(policy)),
            Subject::Tables(_) => None,
        };
        let mut problems = self.problems.clone();
        for (i, (case, setup)) in self.doc.cases.iter().zip(&self.setups).enumerate() {
            let case = &case.value;
            if let CaseSetup::Timeline(timeline) = setup {
                problems.extend(timeline.check(&self.file, case, subject));
                for (key, expected) in timeline.expectations(case) {
                    if let Some(names) = &names {
                        problems.extend(self.unknown_values(names, key, expected));
                    }
                }
                continue;
            }
            if let Some(account) = &case.account {
                problems.extend(self.account_problems(i, account, plan));
            }
            for (key, rows) in [
                ("rows", &case.rows),
                ("rows_not_fired", &case.rows_not_fired),
            ] {
                for row in rows.iter().flatten() {
                    if row_refs.contains(&row.value.as_str()) {
                        continue;
                    }
                    let dated = dating.and_then(|d| d.row_in_force(&row.value));
                    let problem = match (dated, setup) {
                        (Some(periods), CaseSetup::Account(Some(as_of))) => error(
                            row.span,
                            format!(
                                "`{key}`: row `{}` is not in force on {as_of}, the case's `as_of`: it is in force {periods}",
                                row.value
                            ),
                        )
                        .with_help("give the case an `as_of` when the row is in force, or the row `effective` dates that cover the case"),
                        _ => error(
                            row.span,
                            format!("`{key}`: there is no row `{}`", row.value),
                        )
                        .with_help(
                            did_you_mean(&row.value, row_refs.iter().copied())
                                .unwrap_or_else(|| "a row is written `table:row-id`".to_string()),
                        ),
                    };
                    problems.push(problem);
                }
            }
            for (key, expected) in [
                ("actions", &case.actions),
                ("contains", &case.contains),
                ("excludes", &case.excludes),
            ] {
                let Some(expected) = expected else { continue };
                if let Subject::Tables(_) = subject {
                    let at = expected.first().map_or(case.name.span, |e| e.span);
                    problems.push(error(
                        at,
                        format!("`{key}` needs a policy; these rules have none (expect `decisions` or `rows`)"),
                    ));
                    continue;
                }
                problems.extend(malformed_actions(key, expected, &self.file, &error));
                if let Some(names) = &names {
                    problems.extend(self.unknown_values(names, key, expected));
                }
            }
            for (key, want) in case.decisions.iter().flatten() {
                problems.extend(check_decision(plan, key, want, &self.file, &error));
            }
        }
        super::drop_repeats(&mut problems);
        crate::diagnostic::sort(&mut problems);
        problems
    }

    /// Each value an expected action under `key` names that the policy never
    /// gives its field, at the value.
    fn unknown_values(
        &self,
        names: &PolicyNames,
        key: &str,
        expected: &[Spanned<Json>],
    ) -> Vec<Diagnostic> {
        let so = match key {
            "excludes" | "never" => format!("so this `{key}` entry can never fail"),
            _ => "so no action can match this".to_string(),
        };
        let mut problems = Vec::new();
        for want in expected {
            for unknown in names.unknown_values(&want.value) {
                let at = key_after(&self.file, want.span.start, &unknown.field)
                    .map(|k| {
                        value_after(&self.file, k.end, &unknown.value)
                            .or_else(|| text_after(&self.file, k.end, &unknown.value))
                            .unwrap_or(k)
                    })
                    .unwrap_or(want.span);
                problems.push(
                    Diagnostic::error(
                        CODE,
                        &self.file,
                        at,
                        format!("`{key}`: {}, {so}", unknown.message),
                    )
                    .with_help_opt(unknown.help),
                );
            }
        }
        problems
    }

    /// What `arrears lint` reports of the document: [`TestDocument::check`]'s
    /// errors, and the fields of its accounts the schema does not have, which
    /// `arrears test` warns of.
    fn lint(&self, subject: &Subject, dating: Option<&Dating>) -> Vec<Diagnostic> {
        let mut problems = self.check(subject, dating);
        problems.extend(self.unknown_field_diagnostics(subject.plan()));
        problems
    }
}

/// `arrears lint`'s check of test documents: the documents under `paths` are
/// read and checked against `subject` (the rules in `dir`, when they have no
/// errors), or against the rules directory a document's `rules:` names.
///
/// With effective-dated rules (`dating`), a document whose cases are as of a
/// day `subject` is not in force is left to the rule set that is, as
/// `arrears test` runs it.
pub fn lint(
    paths: &[PathBuf],
    dir: &Path,
    subject: Option<&Subject>,
    dating: Option<&Dating>,
) -> Result<Vec<Diagnostic>, TestFileError> {
    let mut problems = Vec::new();
    for path in discover(paths)? {
        let doc = match TestDocument::read(&path) {
            Ok(doc) => doc,
            Err(p) => {
                problems.extend(p);
                continue;
            }
        };
        match (doc.rules_dir(), &doc.doc.rules) {
            (Some(other), Some(named)) if !same_dir(&other, dir) => {
                let unusable = |message: String| {
                    Diagnostic::error(CODE, &doc.file, named.span, message)
                        .with_help(format!("run `arrears lint {}`", other.display()))
                };
                // Without usable rules, what reading found is still said.
                let unchecked = |problems: &mut Vec<Diagnostic>, message: String| {
                    problems.extend(doc.problems.iter().cloned());
                    problems.push(unusable(message));
                };
                match crate::policy::load(&other) {
                    Err(e) => unchecked(&mut problems, e.to_string()),
                    Ok(l) if l.has_errors() => unchecked(&mut problems, format!(
                        "the rules in `{}` have errors, so this document is not checked against them",
                        other.display()
                    )),
                    Ok(l) => match (&l.policy, &l.plan) {
                        (Some(policy), _) => {
                            problems.extend(doc.lint(&Subject::Policy(policy), None))
                        }
                        (None, Some(plan)) => {
                            problems.extend(doc.lint(&Subject::Tables(plan), None))
                        }
                        (None, None) => problems.extend(doc.problems.iter().cloned()),
                    },
                }
            }
            _ => {
                let first_day = doc.case_dates().first().map(|(_, day)| *day);
                let other_set = dating
                    .zip(first_day)
                    .is_some_and(|(d, day)| !d.in_force(day));
                match subject {
                    Some(s) if !other_set => problems.extend(doc.lint(s, dating)),
                    // Checked against the rules in force on its day; what
                    // reading it found holds whatever the rules.
                    _ => problems.extend(doc.problems.iter().cloned()),
                }
            }
        }
    }
    super::drop_repeats(&mut problems);
    Ok(problems)
}

/// A `decisions` entry: the table exists, is (or is not) per item as written,
/// and has the outputs listed.
fn check_decision(
    plan: &Plan,
    key: &DecisionKey,
    want: &Json,
    file: &crate::source::SourceFile,
    error: &dyn Fn(Span, String) -> Diagnostic,
) -> Vec<Diagnostic> {
    let (name, item) = key.parts();
    let span = key.0.span;
    let Some(table) = plan.tables.iter().find(|t| t.table.name == name) else {
        let help = did_you_mean(name, plan.tables.iter().map(|t| t.table.name.as_str()));
        return vec![
            error(span, format!("`decisions`: there is no table `{name}`")).with_help_opt(help),
        ];
    };
    let mut problems = Vec::new();
    match (&table.table.for_each, item) {
        (Some(_), None) => problems.push(error(
            span,
            format!(
                "`decisions`: `{name}` runs once per item; write `{name}[ITEM]` with the item's id"
            ),
        )),
        (None, Some(_)) => problems.push(error(
            span,
            format!("`decisions`: `{name}` is not a per-item table; write `{name}`"),
        )),
        _ => {}
    }
    let outputs: Vec<&str> = table.results.iter().map(|(n, _)| &**n).collect();
    let listed: Vec<&serde_json::Map<String, Json>> = match want {
        Json::Object(fields) => vec![fields],
        Json::Array(rows) => rows.iter().filter_map(Json::as_object).collect(),
        _ => Vec::new(),
    };
    // The value is plain JSON (no spans inside): each output key is found in
    // the text after the table's name, where the analyst wrote it.
    let key_at = |output: &str| key_after(file, span.end, output).unwrap_or(span);
    for (output, value) in listed.iter().flat_map(|fields| fields.iter()) {
        let Some(k) = outputs.iter().position(|o| *o == output.as_str()) else {
            problems.push(
                error(
                    key_at(output),
                    format!(
                        "`decisions`: table `{name}` has no output `{output}` (its outputs: {})",
                        outputs.join(", ")
                    ),
                )
                .with_help_opt(did_you_mean(output, outputs.iter().copied())),
            );
            continue;
        };
        let Some(value) = value.as_str() else {
            // `category: true`: an enum output is a variant, never a bool or number.
            if let (crate::types::Type::Enum(id), Json::Bool(_) | Json::Number(_)) =
                (&table.results[k].1, value)
            {
                let e = plan.schema().enum_def(*id);
                problems.push(
                    error(
                        key_at(output),
                        format!(
                        "`decisions`: `{name}.{output}` is a variant of enum `{}`, never `{value}`",
                        e.name
                    ),
                    )
                    .with_help(format!("write one of: {}", e.variants.join(", "))),
                );
            }
            continue;
        };
        // Not a variant of the output's enum; else not among the values the
        // table's rows and default give (when all are written out).
        let variants = match &table.results[k].1 {
            crate::types::Type::Enum(id) => {
                let e = plan.schema().enum_def(*id);
                let what = format!(
                    "it is not a variant of enum `{}` (its variants: {})",
                    e.name,
                    e.variants.join(", ")
                );
                Some((e.variants.clone(), what))
            }
            _ => None,
        };
        let given = || {
            given_values(plan, table, output).map(|g| {
                let what = format!("the table never gives it (it gives: {})", g.join(", "));
                (g, what)
            })
        };
        let known = match variants {
            Some((variants, what)) if !variants.iter().any(|v| v == value) => {
                Some((variants, what))
            }
            _ => given(),
        };
        let Some((known, what)) = known else {
            continue;
        };
        if !known.iter().any(|v| v == value) {
            let at = key_at(output);
            let at = value_after(file, at.end, value).unwrap_or(at);
            problems.push(
                error(
                    at,
                    format!("`decisions`: `{name}.{output}` is never `{value}`: {what}"),
                )
                .with_help_opt(did_you_mean(value, known.iter().map(String::as_str))),
            );
        }
    }
    problems
}

/// The values output `output` of `table` takes in its rows and default, as
/// text, when every one is a constant text or enum variant (`None` when one is
/// computed, or the output is of another type).
fn given_values(
    plan: &Plan,
    table: &crate::lang::compile::CompiledTable,
    output: &str,
) -> Option<Vec<String>> {
    use crate::lang::ir::TExprKind;
    use crate::types::{Type, Value};
    let t = &table.table;
    let col = t.outputs.iter().position(|o| o.name == output)?;
    let exprs = t.rows.iter().map(|r| &r.outputs[col]);
    let mut given = Vec::new();
    for e in exprs.chain(t.default.iter().map(|d| &d[col])) {
        let text = match (&e.kind, &t.outputs[col].ty) {
            (TExprKind::Const(Value::Null), _) => continue,
            (TExprKind::Const(Value::Text(v)), Type::Text) => v.to_string(),
            (TExprKind::Const(Value::Enum(v)), Type::Enum(id)) => plan
                .schema()
                .enum_def(*id)
                .variants
                .get(*v as usize)?
                .clone(),
            _ => return None,
        };
        if !given.contains(&text) {
            given.push(text);
        }
    }
    (!given.is_empty()).then_some(given)
}

/// How far after a `decisions` table name its outputs are looked for.
const DECISION_TEXT: usize = 4096;

/// The span of `key` written as a key (`key:`, `key =`, maybe quoted) in the
/// text after `from`.
fn key_after(file: &crate::source::SourceFile, from: usize, key: &str) -> Option<Span> {
    let end = (from + DECISION_TEXT).min(file.text.len());
    let text = file.text.get(from..end).or_else(|| file.text.get(from..))?;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(key).find_map(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + key.len()..]
            .trim_start_matches(['"', '\''])
            .trim_start();
        (!before.is_some_and(word) && after.starts_with([':', '=']))
            .then(|| Span::new(from + i, from + i + key.len()))
    })
}

/// The span of `value` written (maybe quoted) as the value after `from`.
fn value_after(file: &crate::source::SourceFile, from: usize, value: &str) -> Option<Span> {
    let text = file.text.get(from..)?;
    let rest = text.trim_start_matches(['"', '\'']).trim_start();
    let rest = rest.strip_prefix([':', '='])?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let start = from + (text.len() - rest.len());
    rest.starts_with(value)
        .then(|| Span::new(start, start + value.len()))
}

/// The span of `value` written in the text after `from` (an item of a
/// list), within the text a `decisions` entry is looked for in.
fn text_after(file: &crate::source::SourceFile, from: usize, value: &str) -> Option<Span> {
    let end = (from + DECISION_TEXT).min(file.text.len());
    let at = file.text.get(from..end)?.find(value)?;
    Some(Span::new(from + at, from + at + value.len()))
}

/// The values a policy's actions can carry in the fields that name
/// something, so that an expected action naming one it never makes
/// (`category: arears`, `event: reminder-leter`, `status: brokn`) is an
/// error: under `excludes` or `never` it could never fail.
pub(super) struct PolicyNames<'p> {
    categories: Vec<&'p str>,
    /// The class table's `class` values, when every row writes one out.
    classes: Vec<String>,
    templates: Vec<&'p str>,
    events: Vec<&'p str>,
    experiments: Vec<&'p str>,
    arms: Vec<&'p str>,
    flag_tables: Vec<&'p str>,
}

/// The variants of the built-in enum `name` (the pipeline's vocabulary).
fn builtin(name: &str) -> &'static [&'static str] {
    crate::data::schema::BUILTIN_ENUMS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[], |(_, variants)| *variants)
}

/// One value an expected action names that the policy never gives its field.
pub(super) struct UnknownValue {
    pub field: String,
    /// The value as written (an item, for a list of events).
    pub value: String,
    pub message: String,
    pub help: Option<String>,
}

impl<'p> PolicyNames<'p> {
    pub(super) fn of(policy: &'p crate::policy::Policy) -> Self {
        let plan = &policy.plan;
        let entry = &plan.tables[policy.roles.entry.table as usize].table;
        let categories = entry
            .outputs
            .iter()
            .find(|o| o.name == "category")
            .and_then(|o| match o.ty {
                crate::types::Type::Enum(id) => Some(plan.schema().enum_def(id)),
                _ => None,
            })
            .map(|e| e.variants.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let class_table = &plan.tables[policy.roles.class.table as usize];
        let classes = match class_table.table.outputs.iter().find(|o| o.name == "class") {
            Some(o) => match o.ty {
                crate::types::Type::Enum(id) => plan.schema().enum_def(id).variants.clone(),
                _ => given_values(plan, class_table, "class").unwrap_or_default(),
            },
            None => Vec::new(),
        };
        let templates = policy.templates.keys().map(String::as_str).collect();
        let events = policy
            .templates
            .values()
            .flat_map(|t| t.events.iter().map(|e| &*e.id))
            .collect();
        let experiments = policy
            .experiments
            .iter()
            .map(|e| e.experiment.name.as_str())
            .collect();
        let arms = policy
            .experiments
            .iter()
            .flat_map(|e| e.experiment.arms.iter().map(|a| a.name.as_str()))
            .collect();
        let flag_tables = policy
            .roles
            .flags
            .iter()
            .map(|r| plan.tables[r.table as usize].table.name.as_str())
            .collect();
        PolicyNames {
            categories,
            classes,
            templates,
            events,
            experiments,
            arms,
            flag_tables,
        }
    }

    /// The values `field` of an action of type `kind` can have, when they are
    /// a known set (`None`: any value, or one the account decides).
    fn known(&self, kind: &str, field: &str) -> Option<Vec<&str>> {
        let known: Vec<&str> = match (kind, field) {
            ("open_case" | "retreat_case", "category") => self.categories.clone(),
            ("assign_class", "class") => self.classes.iter().map(String::as_str).collect(),
            (_, "template") => self.templates.clone(),
            ("assign_arm", "experiment") => self.experiments.clone(),
            ("assign_arm", "arm") => self.arms.clone(),
            (_, "event") | ("hold_contact", "withheld" | "cancelled") => self.events.clone(),
            ("schedule_event", "event_type") | ("rechannel", "from" | "to") => {
                builtin("event_type").to_vec()
            }
            ("promise_outcome", "status") => builtin("promise_status").to_vec(),
            ("follow_up", "follow_up") => builtin("follow_up").to_vec(),
            ("withhold", "action") => builtin("guarded_action").to_vec(),
            ("flag", "table") => self.flag_tables.clone(),
            _ => return None,
        };
        (!known.is_empty()).then_some(known)
    }

    /// Every field of `want` naming a value the policy never gives that field
    /// (of its `type`, or of every action type that has the field).
    pub(super) fn unknown_values(&self, want: &Json) -> Vec<UnknownValue> {
        use crate::testing::expect::ACTION_FIELDS;
        let Some(fields) = want.as_object() else {
            return Vec::new();
        };
        let kinds: Vec<&str> = match fields.get("type") {
            Some(Json::String(kind)) if ACTION_FIELDS.iter().any(|(k, _)| k == kind) => {
                vec![kind.as_str()]
            }
            Some(_) => return Vec::new(),
            None => ACTION_FIELDS.iter().map(|(k, _)| *k).collect(),
        };
        let mut found = Vec::new();
        for (field, value) in fields {
            let having = kinds.iter().filter(|k| {
                ACTION_FIELDS
                    .iter()
                    .any(|(name, f)| name == *k && f.contains(&field.as_str()))
            });
            // Known only when every action type with the field knows its values.
            let mut known: Vec<&str> = Vec::new();
            let mut any = false;
            for kind in having {
                match self.known(kind, field) {
                    Some(values) => known.extend(values),
                    None => {
                        any = true;
                        break;
                    }
                }
            }
            if any || known.is_empty() {
                continue;
            }
            known.dedup();
            let values: Vec<&str> = match value {
                Json::String(v) => vec![v.as_str()],
                Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
                _ => continue,
            };
            for value in values {
                if let Some(problem) = unknown_value(field, value, &known) {
                    found.push(problem);
                }
            }
        }
        found
    }
}

/// `value` of `field` checked against `known`; a promise's follow-up event
/// (`promise-P-1-send_letter`) by its follow-up, a callback's
/// (`callback-2026-11-20`) by its date, a to-do's left alone.
fn unknown_value(field: &str, value: &str, known: &[&str]) -> Option<UnknownValue> {
    let problem = |message: String, help: Option<String>| UnknownValue {
        field: field.to_string(),
        value: value.to_string(),
        message,
        help,
    };
    if matches!(field, "event" | "withheld" | "cancelled") {
        if let Some(rest) = value.strip_prefix(crate::policy::case::FOLLOW_UP_PREFIX) {
            let follow_ups = builtin("follow_up");
            let (promise, follow_up) = rest.rsplit_once('-')?;
            if follow_ups.contains(&follow_up) || promise.is_empty() {
                return None;
            }
            let help = crate::diagnostic::nearest(follow_up, follow_ups.iter().copied())
                .map(|f| format!("did you mean `promise-{promise}-{f}`?"));
            return Some(problem(
                format!(
                    "`{value}` is no promise's follow-up event: those are `promise-<promise>-<follow-up>`, and `{follow_up}` is not a follow-up (the follow-ups: {})",
                    follow_ups.join(", ")
                ),
                help,
            ));
        }
        if let Some(date) = value.strip_prefix(crate::policy::case::CALLBACK_PREFIX) {
            // Written as the pipeline writes it: `2026-11-03`, not `2026-11-3`.
            let written = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .is_ok_and(|d| d.format("%Y-%m-%d").to_string() == date);
            if written {
                return None;
            }
            return Some(problem(
                format!("`{value}` is no callback's event: those are `callback-YYYY-MM-DD`, the day the customer asked for"),
                None,
            ));
        }
        if value.starts_with("todo:") {
            return None;
        }
    }
    if known.contains(&value) {
        return None;
    }
    let help = did_you_mean(value, known.iter().copied());
    const LISTED: usize = 12;
    let listed = if known.len() <= LISTED {
        format!(" (it gives: {})", known.join(", "))
    } else {
        String::new()
    };
    Some(problem(
        format!("the policy never gives `{field}` the value `{value}`{listed}"),
        help,
    ))
}
