//! Timeline cases: a test case that names a timeline document instead of an
//! account and expects what the policy does on given days (`on`), on some day
//! (`ever`) or on none (`never`), `ever` and `never` narrowed by `from` / `to`.
//! Reading checks the case's keys and dates; checking reads the timeline
//! against the policy (as `arrears simulate` does) and the case's dates
//! against the timeline's days; running is `Timeline::run`, each day's actions
//! matched by `expect.rs`. It must not decide or simulate anything itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value as Json;

use super::document::CaseDoc;
use super::run::{actions_json, expected_actions};
use super::{Subject, CODE};
use crate::diagnostic::Diagnostic;
use crate::model::load::date_cell;
use crate::model::spanned::Spanned;
use crate::policy::Policy;
use crate::simulate::{History, Timeline};
use crate::source::{SourceFile, Span};
use crate::testing::expect::{compact, described, matches};

/// A timeline case as read: its timeline's path and its dates.
pub(crate) struct TimelineCase {
    /// The timeline document, resolved against the test document's directory.
    path: PathBuf,
    /// The date of each `on` entry, in order.
    on: Vec<NaiveDate>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// The keys only an account case has, with what a timeline case writes instead.
const ACCOUNT_ONLY: &str = "a timeline case expects actions: `on` (a day's), `ever`, `never`";

impl TimelineCase {
    /// Reads a case that names a `timeline`: no key of an account case, every
    /// date a date, `from` not after `to` and only with `ever` or `never`, and
    /// every day and the case expecting something.
    pub(super) fn read(
        file: &Arc<SourceFile>,
        document: &Path,
        case: &CaseDoc,
        problems: &mut Vec<Diagnostic>,
    ) -> TimelineCase {
        let error = |span: Span, message: String| Diagnostic::error(CODE, file, span, message);
        let name = &case.name;
        if let Some(account) = &case.account {
            problems.push(error(
                account.span,
                "a case names an `account` or a `timeline`, not both".into(),
            ));
        }
        if let Some(as_of) = &case.as_of {
            problems.push(error(
                as_of.span,
                "`as_of` is for an account case; a timeline case runs every day of its timeline"
                    .into(),
            ));
        }
        for (key, list) in [
            ("actions", &case.actions),
            ("contains", &case.contains),
            ("excludes", &case.excludes),
        ] {
            if let Some(list) = list {
                problems.push(
                    error(
                        first_span(list, name.span),
                        format!("`{key}` is for an account case's one run"),
                    )
                    .with_help(format!(
                        "in a timeline case, write it under `on: {{DATE: {{{key}: ...}}}}`, or use `ever` / `never`"
                    )),
                );
            }
        }
        for (key, list) in [
            ("rows", &case.rows),
            ("rows_not_fired", &case.rows_not_fired),
        ] {
            if let Some(list) = list {
                problems.push(
                    error(
                        first_span(list, name.span),
                        format!("`{key}` is for an account case"),
                    )
                    .with_help(ACCOUNT_ONLY),
                );
            }
        }
        if let Some(decisions) = &case.decisions {
            let span = decisions.keys().next().map_or(name.span, |k| k.0.span);
            problems.push(
                error(span, "`decisions` is for an account case".into()).with_help(ACCOUNT_ONLY),
            );
        }
        let mut on = Vec::new();
        for (day, expected) in case.on.iter().flatten() {
            let date = date_cell(CODE, file, &day.0, problems);
            if !expected.value.expects_something() {
                problems.push(
                    error(
                        day.0.span,
                        format!("`on` {}: expects nothing", day.0.value.0),
                    )
                    .with_help("add `actions`, `contains` or `excludes` (see docs/testing.md)"),
                );
            }
            on.push(date.unwrap_or_default());
        }
        let from = case
            .from
            .as_ref()
            .and_then(|d| date_cell(CODE, file, d, problems));
        let to = case
            .to
            .as_ref()
            .and_then(|d| date_cell(CODE, file, d, problems));
        if let (Some(from), Some(to), Some(cell)) = (from, to, &case.to) {
            if to < from {
                problems.push(error(
                    cell.span,
                    format!("`to` ({to}) is before `from` ({from})"),
                ));
            }
        }
        let listed = |l: &Option<Vec<_>>| l.as_ref().is_some_and(|l| !l.is_empty());
        let window = listed(&case.ever) || listed(&case.never);
        for (key, cell) in [("from", &case.from), ("to", &case.to)] {
            if let (Some(cell), false) = (cell, window) {
                problems.push(error(
                    cell.span,
                    format!("`{key}` narrows the days `ever` and `never` look at, and this case has neither"),
                ));
            }
        }
        if !window && case.on.as_ref().is_none_or(|on| on.is_empty()) {
            problems.push(
                error(
                    name.span,
                    format!("case `{}` expects nothing, so it cannot fail", name.value),
                )
                .with_help("add `on`, `ever` or `never` (see docs/testing.md)"),
            );
        }
        let timeline = case.timeline.as_ref().map_or("", |t| t.value.as_str());
        TimelineCase {
            path: document.parent().unwrap_or(Path::new(".")).join(timeline),
            on,
            from,
            to,
        }
    }

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
            problems.extend(super::check::malformed_actions(key, list, &error));
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
                problems.extend(
                    unusable
                        .iter()
                        .map(|p| error(at, format!("`timeline`: {}", p.one_line()))),
                );
                return problems;
            }
        };
        let (first, last) = (timeline.from, timeline.to);
        let outside = |date: NaiveDate| date < first || date > last;
        for (day, &date) in case.on.iter().flatten().map(|(d, _)| d).zip(&self.on) {
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
    fn expectations<'c>(&self, case: &'c CaseDoc) -> Vec<(&'static str, &'c [Spanned<Json>])> {
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

/// An account case's keys that need a timeline: each is an error.
pub(super) fn misplaced_in_account_case(
    file: &Arc<SourceFile>,
    case: &CaseDoc,
    problems: &mut Vec<Diagnostic>,
) {
    let name = case.name.span;
    let spans = [
        (
            "on",
            case.on
                .as_ref()
                .map(|on| on.keys().next().map_or(name, |k| k.0.span)),
        ),
        ("ever", case.ever.as_ref().map(|l| first_span(l, name))),
        ("never", case.never.as_ref().map(|l| first_span(l, name))),
        ("from", case.from.as_ref().map(|c| c.span)),
        ("to", case.to.as_ref().map(|c| c.span)),
    ];
    for (key, span) in spans {
        if let Some(span) = span {
            problems.push(
                Diagnostic::error(CODE, file, span, format!("`{key}` needs a `timeline`"))
                    .with_help("an account case is one run, on its `as_of`; a timeline case names `timeline: PATH`"),
            );
        }
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

fn first_span<T>(list: &[Spanned<T>], otherwise: Span) -> Span {
    list.first().map_or(otherwise, |s| s.span)
}
