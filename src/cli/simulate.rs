//! `arrears simulate --rules DIR TIMELINE...`: each timeline's case history,
//! day by day. It reads the arguments and timelines and prints; the days are
//! run by `simulate`, the decisions are the policy's.

use std::path::PathBuf;

use serde_json::{json, Value as Json};

use super::{error_line, Exit, Format, Out};
use crate::data::snapshot::number_text;
use crate::diagnostic::printable;
use crate::policy::case::Case;
use crate::simulate::{Day, History, Timeline};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory (it must have a `policy` document).
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// Timeline documents, or directories of them (see docs/simulate.md).
    #[arg(required = true)]
    timelines: Vec<PathBuf>,
    /// Show every day, also those whose actions repeat the day before.
    #[arg(long)]
    every_day: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let book = match super::rules::Rules::load(&args.rules) {
        Ok(book) => book,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    // Timelines are read against any rule set without errors (the schema and
    // the case fields are not dated); each day then runs the set in force.
    let sets = book.versions.sets.len().max(1);
    let loaded = match (0..sets).find_map(|s| book.runnable(s).ok()) {
        Some(loaded) => loaded,
        None => match book.runnable(0) {
            Ok(loaded) => loaded,
            Err(refused) => return refused.exit(),
        },
    };
    let Some(policy) = &loaded.policy else {
        error_line(format!(
            "{}: no `policy` document, so there is no case to simulate (see docs/policy.md)",
            args.rules.display()
        ));
        return Exit::BadInput;
    };
    // A day whose rules cannot run stops the timeline as refused rules do elsewhere: exit 3.
    let rules_refused = std::cell::Cell::new(false);
    let policy_on = |date: chrono::NaiveDate| {
        let refused = |line: String| {
            rules_refused.set(true);
            line
        };
        match book.runnable_on(date) {
            Ok(l) => l.policy.as_ref().ok_or_else(|| {
                refused(format!(
                    "the rules in force on {date} have no `policy` document; run `arrears lint --as-of {date} {}`",
                    args.rules.display()
                ))
            }),
            Err(refusal) => Err(refused(refusal.line())),
        }
    };
    let mut files = Vec::new();
    for path in &args.timelines {
        match crate::simulate::discover(path) {
            Ok(found) if found.is_empty() => {
                error_line(format!(
                    "{}: no timeline documents (.yaml, .yml, .toml)",
                    path.display()
                ));
                return Exit::BadInput;
            }
            Ok(found) => files.extend(found),
            Err(e) => {
                error_line(format!("{}: {e}", path.display()));
                return Exit::BadInput;
            }
        }
    }
    // A timeline named twice (`t.yaml ./t.yaml`, or in a directory also given) runs once.
    crate::input::dedup_same_files(&mut files);
    let mut timelines = Vec::new();
    for file in &files {
        match Timeline::read(file, policy) {
            Ok(t) => timelines.push(t),
            Err(problems) => {
                // Exit 2 says one line: the first problem, how many more and where.
                error_line(crate::diagnostic::one_line_of(&problems).unwrap_or_default());
                return Exit::BadInput;
            }
        }
    }
    let mut exit = Exit::Ok;
    let mut docs = Vec::new();
    for timeline in &timelines {
        let (history, stopped) = match timeline.run_dated(policy, &policy_on) {
            Ok(history) => (history, None),
            Err(stopped) => {
                let message = timeline.stopped_line(&stopped);
                (stopped.history, Some(message))
            }
        };
        let spans = rule_spans(&book, &history);
        match args.format {
            Format::Human => {
                human(out, timeline, &history, args.every_day);
                for &(first, last) in &spans {
                    let _ = super::effective_lines_over(out, &book, first, last);
                }
            }
            Format::Json => {
                let mut doc = json_history(timeline, &history, stopped.as_deref());
                if !book.versions.is_empty() {
                    doc["effective"] = spans
                        .iter()
                        .map(|(first, last)| {
                            json!({
                                "from": first.to_string(),
                                "to": last.to_string(),
                                "versions": book.in_force_json(*first),
                            })
                        })
                        .collect();
                }
                docs.push(doc);
            }
        }
        if let Some(message) = stopped {
            error_line(message);
            if exit != Exit::InvalidRules {
                exit = match rules_refused.get() {
                    true => Exit::InvalidRules,
                    false => Exit::Findings,
                };
            }
        }
    }
    if args.format == Format::Json {
        let doc = json!({ "timelines": docs });
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        );
    }
    exit
}

/// The spans of the days a timeline ran (first, last) on which one
/// effective-dated rule set is in force, in order: a new span starts on the day
/// the versions change. None when nothing is dated.
fn rule_spans(
    book: &crate::policy::Rulebook,
    history: &History,
) -> Vec<(chrono::NaiveDate, chrono::NaiveDate)> {
    if book.versions.is_empty() {
        return Vec::new();
    }
    let mut spans: Vec<(chrono::NaiveDate, chrono::NaiveDate, usize)> = Vec::new();
    for day in &history.days {
        let set = book.set_on(day.date);
        match spans.last_mut() {
            Some((_, last, s)) if *s == set => *last = day.date,
            _ => spans.push((day.date, day.date, set)),
        }
    }
    spans.into_iter().map(|(f, l, _)| (f, l)).collect()
}

/// The lines a day's actions print as, rules included: two days whose lines
/// are the same did the same.
fn action_lines(day: &Day) -> Vec<String> {
    day.actions
        .iter()
        .map(|a| printable(&format!("{}  <- {}", a.kind, a.rules.join(", "))).into_owned())
        .collect()
}

fn human(out: &mut Out, timeline: &Timeline, history: &History, every_day: bool) {
    let _ = writeln!(
        out,
        "timeline {} (account {}, {} to {})",
        printable(&history.timeline),
        printable(&history.account),
        timeline.from,
        timeline.to
    );
    let mut before: Option<&Case> = None;
    let mut shown: Option<(chrono::NaiveDate, Vec<String>)> = None;
    // A run of days that repeat the last day shown: (first, last).
    let mut repeat: Option<(chrono::NaiveDate, chrono::NaiveDate)> = None;
    for day in &history.days {
        let lines = action_lines(day);
        let ended = day.treatment_ended(before);
        before = day.case.as_ref();
        let quiet = day.happened.is_empty() && day.done.is_empty() && !ended;
        if quiet && lines.is_empty() && !every_day {
            continue;
        }
        if quiet
            && !every_day
            && shown
                .as_ref()
                .is_some_and(|(_, previous)| *previous == lines)
        {
            repeat = Some((repeat.map_or(day.date, |(first, _)| first), day.date));
            continue;
        }
        repeats(out, &mut repeat, &shown);
        let figures: Vec<String> = day
            .figures
            .iter()
            .map(|(name, value)| {
                let value = number_text(value).map_or_else(|| value.to_string(), str::to_string);
                format!("{name} {}", printable(&value))
            })
            .collect();
        let _ = writeln!(out, "{}  ({})", day.date, figures.join(", "));
        if quiet && lines.is_empty() {
            let _ = writeln!(out, "    (no actions)");
        }
        for h in &day.happened {
            let _ = writeln!(out, "    happened: {}", printable(h));
        }
        for line in &lines {
            let _ = writeln!(out, "    {line}");
        }
        for e in &day.done {
            let _ = writeln!(
                out,
                "    done: {} {} (due {})",
                printable(&e.id),
                e.event_type,
                e.date
            );
        }
        if ended {
            let _ = writeln!(out, "    treatment complete: no event pending");
        }
        if !lines.is_empty() {
            shown = Some((day.date, lines));
        }
    }
    repeats(out, &mut repeat, &shown);
    // A timeline stopped on its first day has no end to tell.
    let Some(last) = history.days.last() else {
        return;
    };
    let end = last.date;
    let _ = match &last.case {
        None => writeln!(out, "at the end of {end}: no case open"),
        Some(case) => writeln!(
            out,
            "at the end of {end}: case open since {} (category {}, template {}), {} event(s) pending",
            case.start_date,
            printable(&case.category),
            printable(case.template.as_deref().unwrap_or("null")),
            case.pending().count()
        ),
    };
}

/// The line for a run of days that did what the last day shown did, if there is one.
fn repeats(
    out: &mut Out,
    repeat: &mut Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    shown: &Option<(chrono::NaiveDate, Vec<String>)>,
) {
    let (Some((first, last)), Some((like, _))) = (repeat.take(), shown) else {
        return;
    };
    let days = if first == last {
        first.to_string()
    } else {
        format!("{first} to {last}")
    };
    // Not "the same as on {like}": that day's `done:` lines are not repeated.
    let _ = writeln!(
        out,
        "{days}: the policy repeated its actions of {like}; no event done, nothing happened"
    );
}

fn json_history(timeline: &Timeline, history: &History, stopped: Option<&str>) -> Json {
    let mut before: Option<&Case> = None;
    let mut days = Vec::new();
    for d in &history.days {
        let ended = d.treatment_ended(before);
        before = d.case.as_ref();
        if d.actions.is_empty() && d.happened.is_empty() && d.done.is_empty() && !ended {
            continue;
        }
        days.push(json!({
            "date": d.date.to_string(),
            "figures": d.figures.iter().cloned().collect::<serde_json::Map<_, _>>(),
            "happened": d.happened,
            "actions": d.actions,
            "done": d.done,
            "treatment_complete": ended,
            "case": d.case,
            "contacts": d.contacts,
        }));
    }
    json!({
        "timeline": history.timeline,
        "file": timeline.path.display().to_string(),
        "account": history.account,
        "from": timeline.from.to_string(),
        "to": timeline.to.to_string(),
        "days": days,
        "case": history.days.last().and_then(|d| d.case.as_ref()),
        "contacts": history.days.last().map(|d| &d.contacts),
        "stopped": stopped,
    })
}
