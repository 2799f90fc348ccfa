//! Decision-table analysis for `arrears lint`: gaps, overlaps, masked and
//! subsumed rows, unused fields and tables, row ids and reasons that quote
//! their row's thresholds ([`quoted`]). Every claim about inputs is exact
//! and comes with a counterexample; what cannot be analysed exactly is said so
//! (`not-analysed`), never guessed.
//!
//! Each column's domain is cut into elementary pieces by every boundary any
//! cell of that column draws (see [`domain`]); a row is then a box: one set of
//! pieces per column. Coverage questions (is every input matched? is this row
//! covered by earlier ones?) are answered by splitting column by column,
//! grouping pieces that the same rows contain, under a work budget.
//!
//! The rooms: `cell` (what one cell matches), `bits` and `space` (a table as
//! boxes of pieces), `search` (coverage under the budgets), `show` (points and
//! regions written as cells), `findings` (gap, overlap, masked, subsumed and
//! duplicate rows of one table), `unused` (fields and tables nothing reads),
//! `always_true` (a cell whose alternatives match every value: `>= 5, <= 29`).
//! This file holds the entry points and what they return.

mod always_true;
pub mod codes;
pub mod counterexample;
pub mod domain;
pub mod invariants;
mod quoted;

mod bits;
mod cell;
mod findings;
mod search;
mod show;
mod space;
mod unused;
pub use unused::unmapped_guard_fields;

use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::lang::ir::Program;
use crate::model::doc::SchemaDoc;
use crate::source::SourceFile;
use crate::types::{RecordId, Value};
use findings::{analyse_table, analyse_table_for};
use unused::unused;

/// Leaf visits allowed per table for the coverage searches.
pub const LEAF_BUDGET: u64 = 200_000;
/// Row pairs compared per table for overlaps and subsumption.
pub const PAIR_BUDGET: u64 = 5_000_000;
/// 64-bit words the rows' boxes of one table may take (8 MiB): a box holds a
/// bit per piece, and pieces grow with rows, so a large table's boxes grow
/// with its rows squared.
pub const SPACE_WORDS_BUDGET: usize = 1 << 20;

/// What the analysis knows beyond the program.
#[derive(Default)]
pub struct Context<'a> {
    /// The schema as written, to point at unused fields.
    pub schema_doc: Option<(&'a Arc<SourceFile>, &'a SchemaDoc)>,
    /// With a policy: what it uses besides the rules.
    pub policy: Option<PolicyUse>,
}

/// The tables a policy plays (any role) and the fields its pipeline reads.
#[derive(Default, Debug, Clone)]
pub struct PolicyUse {
    pub tables: Vec<u32>,
    pub fields: Vec<(RecordId, usize)>,
}

/// Analyses a checked program. Call it only when checking found no errors.
pub fn analyse(program: &Program, ctx: &Context) -> Vec<Diagnostic> {
    analyse_findings(program, ctx)
        .into_iter()
        .map(|f| f.diagnostic)
        .collect()
}

/// [`analyse`], with the input values behind each finding that has some.
pub fn analyse_findings(program: &Program, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for (t, table) in program.tables.iter().enumerate() {
        let mut always_true = always_true::always_true_cells(&program.schema, table);
        let mut found = analyse_table(&program.schema, table, t as u32, LEAF_BUDGET);
        // A row whose cell tests nothing overlaps, hides or is hidden by its
        // neighbours: those warnings follow from the one cell and would bury
        // it, so they wait for its fix (and it says how many). An error (an
        // overlap under `unique`) fails when run: it stays, marked as following.
        for (row, d) in always_true.iter_mut() {
            let named = format!("`{row}`");
            let before = found.len();
            let follows = format!(
                "this follows from row {named}'s cell at {}, which matches every value (always-true-cell)",
                d.location()
            );
            found.retain_mut(|f| {
                let about = f.diagnostic.message.contains(&named);
                if about && f.diagnostic.severity == crate::diagnostic::Severity::Error {
                    let help = f.diagnostic.help.take();
                    f.diagnostic.help = Some(match help {
                        Some(help) => format!("{follows}; {help}"),
                        None => follows.clone(),
                    });
                    return true;
                }
                !about
            });
            let left_out = before - found.len();
            if left_out > 0 {
                let help = d.help.take().unwrap_or_default();
                d.help = Some(format!(
                    "{help} ({left_out} finding(s) about row {named} that follow from this cell are left out until it is fixed)"
                ));
            }
        }
        out.extend(always_true.into_iter().map(|(_, d)| Finding::plain(d)));
        out.extend(found);
        out.extend(
            quoted::quoted_thresholds(&program.schema, table)
                .into_iter()
                .map(Finding::plain),
        );
    }
    out.extend(unused(program, ctx).into_iter().map(Finding::plain));
    out
}

/// The analysis' errors alone (gaps, overlaps under `unique` and `any`): what
/// [`analyse`] reports as errors, without the warnings' costlier searches
/// (masked and subsumed rows), for commands that refuse rules with errors.
pub fn errors(program: &Program) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (t, table) in program.tables.iter().enumerate() {
        out.extend(
            analyse_table_for(&program.schema, table, t as u32, LEAF_BUDGET, true)
                .into_iter()
                .map(|f| f.diagnostic)
                .filter(|d| d.severity == crate::diagnostic::Severity::Error),
        );
    }
    out
}

/// A violated invariant's account, for `lint --counterexamples`: the pack, the
/// forbidden action, the account (JSON) and the day it gets the action.
#[derive(Clone, Debug)]
pub struct Violation {
    pub pack: String,
    pub action: String,
    pub account: serde_json::Value,
    pub as_of: chrono::NaiveDate,
    /// The event of the account's open case that went out, when no rule proposed the action.
    pub pending: Option<String>,
    /// The `invariant-violated` diagnostic's index in [`Proofs::diagnostics`].
    pub diagnostic: usize,
}

/// What proving a policy's invariants found: diagnostics per invariant not
/// proven and one summary, and the accounts of those violated.
#[derive(Default)]
pub struct Proofs {
    pub diagnostics: Vec<Diagnostic>,
    pub violations: Vec<Violation>,
}

/// A diagnostic of the analysis and, when it is about inputs, a point that shows it.
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub counterexample: Option<Counterexample>,
}

impl Finding {
    fn plain(diagnostic: Diagnostic) -> Self {
        Finding {
            diagnostic,
            counterexample: None,
        }
    }
}

/// Input values of one table that show a finding: a gap, two overlapping
/// rows, a hidden or redundant row.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The table's index in the program.
    pub table: u32,
    /// The row the finding is about; `None` for a gap.
    pub row: Option<String>,
    pub code: &'static str,
    /// (input column, value); columns no cell tests, or whose values cannot be written, are left out.
    pub inputs: Vec<(usize, Value)>,
}
