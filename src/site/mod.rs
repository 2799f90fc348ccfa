//! `arrears doc`: the policy as a static, self-contained HTML site for
//! reviewers and auditors. [`render`] turns the checked and compiled policy
//! (and the documents it was built from, for their descriptions) into pages:
//! the pipeline as a picture, one page per table with the row coverage of the
//! test suite as a heat column, the templates as timelines dated on their
//! calendar, experiments with their arms' shares, calendars and the schema.
//! Every rule reference links to its row, event or arm. Rendering is pure: it
//! reads no file and runs nothing (the CLI runs the tests); [`write`] is the
//! only part that touches the disk, and only the output directory it owns.
//! Pages use no script and load nothing: inline style, inline SVG.

mod html;
mod pages;
mod tables;
pub mod write;

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::lang::compile::Plan;
use crate::model::RuleDocs;
use crate::policy::Policy;
use crate::testing::CaseResult;

/// One page: its file name in the site directory and its HTML.
#[derive(Debug, Clone)]
pub struct Page {
    pub file: String,
    pub html: String,
}

/// What the test suite's cases covered: per `(table, row)` the number of
/// cases in which the row fired.
#[derive(Debug, Clone, Default)]
pub struct SuiteCoverage {
    pub hits: HashMap<(u32, u32), usize>,
    pub cases: usize,
    pub failed: usize,
    /// The test documents run, as named on the command line or found.
    pub files: Vec<String>,
}

impl SuiteCoverage {
    pub fn from_results(results: &[CaseResult], files: Vec<String>) -> SuiteCoverage {
        let mut hits = HashMap::new();
        for r in results {
            for &row in &r.fired {
                *hits.entry(row).or_insert(0) += 1;
            }
        }
        SuiteCoverage {
            hits,
            cases: results.len(),
            failed: results
                .iter()
                .filter(|r| r.outcome != crate::testing::CaseOutcome::Pass)
                .count(),
            files,
        }
    }
}

/// Everything a page may show, read once.
pub struct Input<'a> {
    pub plan: &'a Plan,
    pub policy: Option<&'a Policy>,
    pub docs: &'a RuleDocs,
    pub coverage: Option<SuiteCoverage>,
    /// The example case start that dates the templates' events.
    pub start: NaiveDate,
    /// Effective-dated rules: the day whose rules the site shows and the
    /// dated versions in force then (`row x:y (from ...) at file:line:col`).
    pub effective: Option<(NaiveDate, Vec<String>)>,
    policy_name: String,
    /// The policy area each table plays, by table index.
    roles: HashMap<u32, String>,
}

impl<'a> Input<'a> {
    pub fn new(
        plan: &'a Plan,
        policy: Option<&'a Policy>,
        docs: &'a RuleDocs,
        coverage: Option<SuiteCoverage>,
        start: NaiveDate,
    ) -> Input<'a> {
        let roles = policy.map_or_else(HashMap::new, |p| {
            pages::areas(p)
                .into_iter()
                .filter_map(|a| a.table.map(|t| (t, a.name.to_string())))
                .collect()
        });
        Input {
            plan,
            policy,
            docs,
            coverage,
            start,
            effective: None,
            policy_name: policy.map_or_else(|| "rules".to_string(), |p| p.name.clone()),
            roles,
        }
    }
}

/// Every page of the site, index first.
pub fn render(input: &Input) -> Vec<Page> {
    let links = pages::links(input);
    let mut out = vec![pages::index(input, &links)];
    for t in 0..input.plan.tables.len() {
        let (file, html) = tables::page(input, &links, t);
        out.push(Page { file, html });
    }
    out.push(pages::templates(input, &links));
    out.push(pages::experiments(input, &links));
    out.push(pages::calendars(input, &links));
    out.push(pages::schema(input, &links));
    out
}
