//! Coverage searches over a table's boxes, under the leaf and row-pair
//! budgets: the regions no row matches, whether rows cover a region, the fewest
//! rows that do. It answers questions about boxes and must not word a finding.

use std::collections::HashMap;

use super::bits::Bits;
use super::space::{Bound, Space};

pub(super) struct OverBudget;

pub(super) struct Search<'a> {
    pub(super) space: &'a Space,
    pub(super) leaves: u64,
    pub(super) pairs: u64,
}

pub(super) fn intersect(a: &[Bits], b: &[Bits]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.intersects(y))
}

pub(super) fn contained(inner: &[Bits], outer: &[Bits]) -> bool {
    inner.iter().zip(outer).all(|(x, y)| x.subset_of(y))
}

/// A point of a region: its first piece in every column.
pub(super) fn first_point(region: &[Bits]) -> Vec<usize> {
    region.iter().map(|b| b.first().unwrap_or(0)).collect()
}

/// A point two regions share.
pub(super) fn common(a: &[Bits], b: &[Bits]) -> Vec<usize> {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.first_common(y).unwrap_or(0))
        .collect()
}

/// Merges regions that differ in one column only, so a gap reads as few, wide regions.
pub(super) fn merge_regions(regions: &mut Vec<Vec<Bits>>) {
    'again: loop {
        for i in 0..regions.len() {
            for j in i + 1..regions.len() {
                let differing: Vec<usize> = (0..regions[i].len())
                    .filter(|&c| regions[i][c] != regions[j][c])
                    .collect();
                if differing.len() <= 1 {
                    let other = regions.remove(j);
                    for c in differing {
                        regions[i][c].union_with(&other[c]);
                    }
                    continue 'again;
                }
            }
        }
        return;
    }
}

impl Search<'_> {
    fn n(&self, c: usize) -> usize {
        self.space.cols[c].shown.len()
    }

    pub(super) fn tick_pair(&mut self) -> Result<(), OverBudget> {
        if self.pairs == 0 {
            return Err(OverBudget);
        }
        self.pairs -= 1;
        Ok(())
    }

    /// Appends to `out` the regions of `region` (one set of pieces per column)
    /// that none of `rows` matches, until `out` holds `cap` of them. Pieces of
    /// a column that the same rows contain are taken together, so each region
    /// is as wide as the rows allow.
    pub(super) fn uncovered(
        &mut self,
        region: &[Bits],
        rows: &[usize],
        bound: Bound,
        cap: usize,
        out: &mut Vec<Vec<Bits>>,
    ) -> Result<(), OverBudget> {
        self.uncovered_from(region, rows, bound, cap, &mut Vec::new(), out)
    }

    fn uncovered_from(
        &mut self,
        region: &[Bits],
        rows: &[usize],
        bound: Bound,
        cap: usize,
        prefix: &mut Vec<Bits>,
        out: &mut Vec<Vec<Bits>>,
    ) -> Result<(), OverBudget> {
        if out.len() >= cap {
            return Ok(());
        }
        if self.leaves == 0 {
            return Err(OverBudget);
        }
        self.leaves -= 1;
        let col = prefix.len();
        let ncols = self.space.cols.len();
        if rows.is_empty() {
            let mut found = prefix.clone();
            found.extend_from_slice(&region[col..]);
            out.push(found);
            return Ok(());
        }
        if col == ncols {
            return Ok(());
        }
        let space = self.space;
        if rows.iter().any(|&r| {
            let b = space.boxes(bound, r);
            (col..ncols).all(|c| region[c].subset_of(&b[c]))
        }) {
            return Ok(());
        }
        let n = self.n(col);
        let mut groups: Vec<(Vec<usize>, Bits)> = Vec::new();
        let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
        for atom in region[col].ones(n) {
            let sub: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| space.boxes(bound, r)[col].get(atom))
                .collect();
            match index.get(&sub) {
                Some(&g) => groups[g].1.set(atom),
                None => {
                    let mut b = Bits::new(n);
                    b.set(atom);
                    index.insert(sub.clone(), groups.len());
                    groups.push((sub, b));
                }
            }
        }
        for (sub, atoms) in groups {
            prefix.push(atoms);
            let found = self.uncovered_from(region, &sub, bound, cap, prefix, out);
            prefix.pop();
            found?;
            if out.len() >= cap {
                break;
            }
        }
        Ok(())
    }

    /// Whether `rows` (by `bound`) match every point of `region`.
    pub(super) fn covers(
        &mut self,
        region: &[Bits],
        rows: &[usize],
        bound: Bound,
    ) -> Result<bool, OverBudget> {
        let mut out = Vec::new();
        self.uncovered(region, rows, bound, 1, &mut out)?;
        Ok(out.is_empty())
    }

    /// The rows of `rows` a message should name: one that covers `region` on
    /// its own, else those left after dropping each row the others cover
    /// without (for up to 16 rows; more are all named).
    pub(super) fn fewest(
        &mut self,
        region: &[Bits],
        mut rows: Vec<usize>,
    ) -> Result<Vec<usize>, OverBudget> {
        let space = self.space;
        if let Some(&r) = rows
            .iter()
            .find(|&&r| contained(region, space.boxes(Bound::Must, r)))
        {
            return Ok(vec![r]);
        }
        if rows.len() <= 16 {
            let mut k = 0;
            while k < rows.len() {
                let mut rest = rows.clone();
                rest.remove(k);
                if self.covers(region, &rest, Bound::Must)? {
                    rows = rest;
                } else {
                    k += 1;
                }
            }
        }
        Ok(rows)
    }
}
