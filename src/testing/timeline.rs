//! Timeline cases checked and run: a test case that names a timeline document
//! instead of an account and expects what the policy does on given days
//! (`on`), on some day (`ever`) or on none (`never`), `ever` and `never`
//! narrowed by `from` / `to` (read by `document.rs`). Checking reads the
//! timeline against the policy (as `arrears simulate` does) and the case's
//! dates against the timeline's days; running is `Timeline::run`, each day's
//! actions matched by `expect.rs`. It must not decide or simulate anything
//! itself.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value as Json;

use super::document::{CaseDoc, TimelineCase};
use super::{Subject, CODE};
use crate::diagnostic::Diagnostic;
use crate::model::spanned::Spanned;
use crate::policy::Policy;
use crate::simulate::{History, Timeline};
use crate::source::{SourceFile, Span};
use crate::testing::expect::{
    actions_json, compact, described, expected_actions, malformed_actions, matches,
};

impl TimelineCase {
    /// Against the rules: a policy to run, the timeline readable with it (its
    /// own problems, each on one line after the `timeline` key's location),
    /// every date one of its days, and every expected action well formed.
    pub(super) fn check(
        &self,
        file: &Arc<SourceFile>,
        case: &CaseDoc,
        subject: &Subject,
    ) -> Vec<Diagnostic> {
        let error = |span: Span, message: String| Diagnostic::error(CODE, file, span, message);
        let at = case.timeline.as_ref().map_or(case.name.span, |t| t.span);
        let mut problems = Vec::new();
        for (key, list) in self.expectations(case) {
            problems.extend(malformed_actions(key, list, file, &error));
        }
        let Subject::Policy(policy) = subject else {
            problems.push(error(
                at,
                "`timeline` needs a policy; these rules have none".into(),
            ));
            return problems;
        };
        if let Err(e) = std::fs::metadata(&self.path) {
            let path = self.path.display();
            problems.push(error(at, format!("`timeline`: cannot read `{path}`: {e}")));
            return problems;
        }
        let timeline = match Timeline::read(&self.path, policy) {
            Ok(timeline) => timeline,
            Err(unusable) => {
                // Each where it is written in the timeline, as a test account's
                // problems are, and with the case that reads it.
                let (line, col) = file.line_col(at.start);
                let read_by = format!(
                    "the timeline of case `{}` ({}:{line}:{col})",
                    case.name.value, file.name
                );
                problems.extend(unusable.into_iter().map(|p| Diagnostic {
                    code: if p.code == crate::simulate::CODE {
                        CODE
                    } else {
                        p.code
                    },
                    help: Some(match &p.help {
                        Some(help) => format!("{help}; {read_by}"),
                        None => read_by.clone(),
                    }),
                    ..p
                }));
                return problems;
            }
        };
        let (first, last) = (timeline.from, timeline.to);
        let outside = |date: NaiveDate| date < first || date > last;
        for (day, &date) in case.on.iter().flatten().map(|(d, _)| d).zip(&self.on) {
            let Some(date) = date else { continue };
            if outside(date) {
                problems.push(error(
                    day.0.span,
                    format!("`on` {date} is not a day of the timeline ({first} to {last})"),
                ));
            }
        }
        for (key, cell, date) in [("from", &case.from, self.from), ("to", &case.to, self.to)] {
            if let (Some(cell), Some(date)) = (cell, date) {
                if outside(date) {
                    problems.push(error(
                        cell.span,
                        format!("`{key}` {date} is not a day of the timeline ({first} to {last})"),
                    ));
                }
            }
        }
        problems
    }

    /// Every list of expected actions the case has, with its key.
    pub(super) fn expectations<'c>(
        &self,
        case: &'c CaseDoc,
    ) -> Vec<(&'static str, &'c [Spanned<Json>])> {
        let mut lists = Vec::new();
        for (_, day) in case.on.iter().flatten() {
            let day = &day.value;
            for (key, list) in [
                ("actions", &day.actions),
                ("contains", &day.contains),
                ("excludes", &day.excludes),
            ] {
                lists.extend(list.as_deref().map(|l| (key, l)));
            }
        }
        for (key, list) in [("ever", &case.ever), ("never", &case.never)] {
            lists.extend(list.as_deref().map(|l| (key, l)));
        }
        lists
    }

    /// Runs the timeline as `arrears simulate` does and compares its days with
    /// the case: one line per unmet expectation, each naming its day, and the
    /// rows that fired on any day.
    pub(super) fn run(
        &self,
        case: &CaseDoc,
        policy: &Policy,
    ) -> (Vec<String>, BTreeSet<(u32, u32)>) {
        let timeline = match Timeline::read(&self.path, policy) {
            Ok(timeline) => timeline,
            Err(problems) => {
                let lines = problems
                    .iter()
                    .map(|p| format!("`timeline`: {}", p.one_line()));
                return (lines.collect(), BTreeSet::new());
            }
        };
        let history = match timeline.run(policy) {
            Ok(history) => history,
            Err(stopped) => {
                let why = match stopped.at {
                    Some(_) => timeline.stopped_line(&stopped),
                    None => stopped.message.clone(),
                };
                let line = format!("on {}: the timeline stopped: {why}", stopped.date);
                return (vec![line], fired(&stopped.history));
            }
        };
        let days: Vec<(NaiveDate, Vec<Json>)> = history
            .days
            .iter()
            .map(|d| (d.date, actions_json(&d.actions)))
            .collect();
        let mut problems = Vec::new();
        for ((_, expected), date) in case.on.iter().flatten().zip(&self.on) {
            let Some(date) = date else { continue };
            let Some((_, actual)) = days.iter().find(|(d, _)| d == date) else {
                problems.push(format!("on {date}: the timeline has no such day"));
                continue;
            };
            let day = &expected.value;
            let lines = expected_actions(&day.actions, &day.contains, &day.excludes, actual);
            problems.extend(lines.into_iter().map(|l| format!("on {date}: {l}")));
        }
        let (from, to) = (
            self.from.unwrap_or(timeline.from),
            self.to.unwrap_or(timeline.to),
        );
        let window: Vec<&(NaiveDate, Vec<Json>)> = days
            .iter()
            .filter(|(d, _)| (from..=to).contains(d))
            .collect();
        for (i, want) in case.never.iter().flatten().enumerate() {
            problems.extend(never(i, &want.value, &window));
        }
        for (i, want) in case.ever.iter().flatten().enumerate() {
            problems.extend(ever(i, &want.value, &window, from, to));
        }
        (problems, fired(&history))
    }
}

/// `never`: the first day an action matches `want`, every such action of it,
/// and how many more days have one.
fn never(i: usize, want: &Json, days: &[&(NaiveDate, Vec<Json>)]) -> Vec<String> {
    let mut hits = days
        .iter()
        .filter(|(_, actual)| actual.iter().any(|a| matches(want, a)));
    let Some((first, actual)) = hits.next() else {
        return Vec::new();
    };
    let mut lines: Vec<String> = actual
        .iter()
        .enumerate()
        .filter(|(_, a)| matches(want, a))
        .map(|(n, a)| {
            let (at, what) = (described(n, a), compact(want));
            format!("on {first}: `never` {}: {at} matches {what}", i + 1)
        })
        .collect();
    let more: Vec<NaiveDate> = hits.map(|(d, _)| *d).collect();
    if let Some(last) = more.last() {
        lines.push(format!(
            "`never` {}: and on {} more day(s), the last {last}",
            i + 1,
            more.len()
        ));
    }
    lines
}

/// `ever`: no day from `from` to `to` has an action matching `want`; the days
/// that have one of its type, if any.
fn ever(
    i: usize,
    want: &Json,
    days: &[&(NaiveDate, Vec<Json>)],
    from: NaiveDate,
    to: NaiveDate,
) -> Option<String> {
    if days
        .iter()
        .any(|(_, actual)| actual.iter().any(|a| matches(want, a)))
    {
        return None;
    }
    let kind = want.get("type");
    let same_type: Vec<String> = days
        .iter()
        .filter_map(|(d, actual)| {
            actual
                .iter()
                .enumerate()
                .find(|(_, a)| kind.is_some_and(|k| a.get("type") == Some(k)))
                .map(|(n, a)| format!("on {d}: {}", described(n, a)))
        })
        .collect();
    const SHOWN: usize = 3;
    let hint = match (kind, same_type.len()) {
        (None, _) => String::new(),
        (Some(kind), 0) => format!(
            "; no day has a `{}` action",
            kind.as_str().map_or_else(|| compact(kind), str::to_string)
        ),
        (Some(_), n) if n <= SHOWN => format!("; of its type: {}", same_type.join("; ")),
        (Some(_), n) => format!(
            "; of its type: {}; and on {} more day(s)",
            same_type[..SHOWN].join("; "),
            n - SHOWN
        ),
    };
    Some(format!(
        "`ever` {}: no action from {from} to {to} matches {}{hint}",
        i + 1,
        compact(want)
    ))
}

fn fired(history: &History) -> BTreeSet<(u32, u32)> {
    history
        .days
        .iter()
        .flat_map(|d| d.fired.iter().copied())
        .collect()
}
