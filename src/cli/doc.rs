//! `arrears doc --out DIR`: the policy as a static HTML site.
//! It loads the rules, runs the test suite for coverage, and hands both to
//! `site`; rendering and the output directory's safety are `site`'s.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{error_line, parse_date, Exit, Out};
use crate::site::{render, write::write_site, Input, SuiteCoverage};
use crate::testing::{discover, run_file, Subject};

/// The example case start the templates' events are dated from, unless `--start` names one.
pub const DEFAULT_START: &str = "2026-11-22";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory.
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// The directory to write the site into: new, empty, or an earlier `arrears doc` output.
    #[arg(long, alias = "output", value_name = "DIR")]
    out: PathBuf,
    /// Test documents, or directories to search for them, whose row coverage the tables show
    /// (default: the test documents in the rules directory, such as `rules/tests/`).
    #[arg(long, value_name = "PATH")]
    tests: Vec<PathBuf>,
    /// Run no tests: the tables get no coverage column.
    #[arg(long, conflicts_with = "tests")]
    no_tests: bool,
    /// The example case start date the template timelines are dated from
    /// (default: `--as-of`, else 2026-11-22).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    start: Option<NaiveDate>,
    /// Effective-dated rules: the site shows the rules in force on this day, and its coverage
    /// the test documents whose cases are as of a day those rules are in force (default: `--start`).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    as_of: Option<NaiveDate>,
}

/// The example start and the day whose rules the site shows: each defaults to
/// the other (a start before the rules shown were in force would date their
/// templates from a day they did not apply), then to [`DEFAULT_START`].
fn days(args: &Args) -> (NaiveDate, NaiveDate) {
    let default = NaiveDate::parse_from_str(DEFAULT_START, "%Y-%m-%d").expect("a date");
    let start = args.start.or(args.as_of).unwrap_or(default);
    (start, args.as_of.unwrap_or(start))
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    // As `batch` and `diff` refuse theirs: the next run would walk the site as rules.
    let site = [super::output::Named {
        what: "--out".into(),
        path: &args.out,
    }];
    if let Err(message) = super::output::refuse_inside_rules(&[&args.rules], &site) {
        return super::usage_error(message);
    }
    let book = match super::rules::Rules::load(&args.rules) {
        Ok(book) => book,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    // Effective dating: the versions in force on the day, as `dry-run` runs them.
    let (start, as_of) = days(args);
    let set = book.set_on(as_of);
    if book.set_on(start) != set {
        return super::usage_error(format!(
            "--start {start} falls where other effective-dated rules are in force than on --as-of {as_of}, so the templates shown would be dated from a day they do not apply; give a --start on which the same rules are in force, or leave it out (it defaults to --as-of)"
        ));
    }
    let docs = if book.versions.is_empty() {
        book.docs.clone()
    } else {
        book.versions.in_force(&book.docs, set)
    };
    let loaded = match book.runnable_on(as_of) {
        Ok(loaded) => loaded,
        Err(refused) => return refused.exit(),
    };
    let (plan, policy) = match (&loaded.policy, &loaded.plan) {
        (Some(policy), _) => (&policy.plan, Some(policy)),
        (None, Some(plan)) => (plan, None),
        (None, None) => {
            error_line(format!(
                "`{}` has no tables to document",
                args.rules.display()
            ));
            return Exit::InvalidRules;
        }
    };
    let coverage = if args.no_tests {
        None
    } else {
        let subject = policy.map_or(Subject::Tables(plan), Subject::Policy);
        let paths = if args.tests.is_empty() {
            vec![args.rules.clone()]
        } else {
            args.tests.clone()
        };
        let files = match discover(&paths) {
            Ok(files) => files,
            Err(err) => {
                error_line(err);
                return Exit::BadInput;
            }
        };
        if files.is_empty() && !args.tests.is_empty() {
            error_line(format!(
                "no test documents (files whose top-level key is `tests`) in {}",
                paths
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            return Exit::BadInput;
        }
        let mut results = Vec::new();
        let mut ran = Vec::new();
        for file in &files {
            // A document of another rule set's days tests other rules.
            if !book.versions.is_empty() {
                let dates = crate::testing::TestDocument::read(file)
                    .map(|d| d.case_dates().first().map(|(_, date)| *date))
                    .unwrap_or(None);
                if dates.is_some_and(|d| book.set_on(d) != set) {
                    continue;
                }
            }
            ran.push(file);
            match run_file(&subject, file, false) {
                Ok(r) => results.extend(r),
                Err(err) => {
                    error_line(err);
                    return Exit::BadInput;
                }
            }
        }
        let names = ran.iter().map(|f| f.display().to_string()).collect();
        (!ran.is_empty()).then(|| SuiteCoverage::from_results(&results, names))
    };
    let cases = coverage.as_ref().map(|c| (c.cases, c.failed));
    let mut input = Input::new(plan, policy, &docs, coverage, start);
    if !book.versions.is_empty() {
        input.effective = Some((as_of, book.in_force_lines(as_of)));
    }
    let pages = render(&input);
    match write_site(&args.out, &pages) {
        Ok(done) => {
            let _ = writeln!(
                out,
                "wrote {} page(s) to {}{}",
                done.written.len(),
                crate::diagnostic::printable(&args.out.join("index.html").display().to_string()),
                match cases {
                    Some((n, failed)) =>
                        format!("; row coverage from {n} test case(s), {failed} failed"),
                    None => "; no test coverage".to_string(),
                }
            );
            if !done.removed.is_empty() {
                let _ = writeln!(
                    out,
                    "removed {} page(s) an earlier run wrote",
                    done.removed.len()
                );
            }
            Exit::Ok
        }
        Err(message) => {
            error_line(message);
            Exit::BadInput
        }
    }
}
