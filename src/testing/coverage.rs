//! Row coverage: which rows of each table fired over a set of case results,
//! and which never did. It must not run anything: it counts what the results
//! recorded.

use std::collections::{BTreeMap, BTreeSet};

use super::run::CaseResult;
use crate::lang::compile::Plan;

/// Rows fired per table over a set of results.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// Per table in declaration order: name, rows that fired, all rows' ids.
    pub tables: Vec<TableCoverage>,
}

#[derive(Debug, Clone)]
pub struct TableCoverage {
    pub table: String,
    pub fired: Vec<String>,
    pub never: Vec<String>,
}

impl TableCoverage {
    pub fn total(&self) -> usize {
        self.fired.len() + self.never.len()
    }

    pub fn percent(&self) -> f64 {
        percent(self.fired.len(), self.total())
    }
}

impl Coverage {
    pub fn compute(plan: &Plan, results: &[CaseResult]) -> Coverage {
        let fired: BTreeSet<(u32, u32)> = results
            .iter()
            .flat_map(|r| r.fired.iter().copied())
            .collect();
        let tables = plan
            .tables
            .iter()
            .enumerate()
            .map(|(t, ct)| {
                let (f, n): (Vec<_>, Vec<_>) = ct
                    .table
                    .rows
                    .iter()
                    .enumerate()
                    .partition(|(r, _)| fired.contains(&(t as u32, *r as u32)));
                TableCoverage {
                    table: ct.table.name.clone(),
                    fired: f.into_iter().map(|(_, row)| row.id.clone()).collect(),
                    never: n.into_iter().map(|(_, row)| row.id.clone()).collect(),
                }
            })
            .collect();
        Coverage { tables }
    }

    pub fn fired(&self) -> usize {
        self.tables.iter().map(|t| t.fired.len()).sum()
    }

    pub fn total(&self) -> usize {
        self.tables.iter().map(|t| t.total()).sum()
    }

    pub fn percent(&self) -> f64 {
        percent(self.fired(), self.total())
    }

    pub fn by_table(&self) -> BTreeMap<&str, &TableCoverage> {
        self.tables.iter().map(|t| (t.table.as_str(), t)).collect()
    }
}

/// A share for display; coverage is a ratio of counts, not money.
fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
