//! Exact region algebra for one column of a decision table.
//! It must not know about tables, cells or diagnostics: it is set algebra.
//!
//! Ordered values (integers, days, decimals, money, dates) are points on a
//! line of `Decimal`s (a date is its day number). A set of them is a union of
//! intervals, kept as half-open ranges `[a, b)` of *cuts*: a cut sits just
//! before or just after a value, so `[3..5]` is `[before 3, after 5)` and
//! `> 3` is `[after 3, +∞)`. Union, intersection and complement are then plain
//! sweeps and touching ranges merge. Discrete domains (integers, days, dates)
//! normalise every cut to "before an integer": `> 5` becomes `>= 6`, so
//! `[1..29]` and `[30..59]` leave no gap.

use rust_decimal::Decimal;

/// A position on the line, between values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pos {
    NegInf,
    /// `At(v, false)` is just before `v`; `At(v, true)` just after it.
    At(Decimal, bool),
    PosInf,
}

/// Whether the values are integers (integers, days, dates) or dense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    Discrete,
    /// Dense, with the step used to pick readable representatives (`0.01` for money).
    Dense(Decimal),
}

impl Line {
    /// Normalises a cut: on a discrete line every cut is "just before an integer".
    pub fn norm(self, p: Pos) -> Pos {
        match (self, p) {
            (Line::Discrete, Pos::At(v, after)) => {
                if after {
                    Pos::At(v.floor() + Decimal::ONE, false)
                } else {
                    Pos::At(v.ceil(), false)
                }
            }
            _ => p,
        }
    }
}

/// A union of disjoint, non-touching half-open cut ranges, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntervalSet {
    pub line: Line,
    ranges: Vec<(Pos, Pos)>,
}

impl IntervalSet {
    pub fn empty(line: Line) -> Self {
        IntervalSet {
            line,
            ranges: Vec::new(),
        }
    }

    pub fn all(line: Line) -> Self {
        IntervalSet {
            line,
            ranges: vec![(Pos::NegInf, Pos::PosInf)],
        }
    }

    /// The interval between two bounds: `None` is unbounded; `(value, inclusive)` otherwise.
    pub fn interval(
        line: Line,
        low: Option<(Decimal, bool)>,
        high: Option<(Decimal, bool)>,
    ) -> Self {
        let a = match low {
            None => Pos::NegInf,
            Some((v, inclusive)) => Pos::At(v, !inclusive),
        };
        let b = match high {
            None => Pos::PosInf,
            Some((v, inclusive)) => Pos::At(v, inclusive),
        };
        Self::from_ranges(line, vec![(a, b)])
    }

    pub fn point(line: Line, v: Decimal) -> Self {
        Self::interval(line, Some((v, true)), Some((v, true)))
    }

    fn from_ranges(line: Line, ranges: Vec<(Pos, Pos)>) -> Self {
        let mut ranges: Vec<(Pos, Pos)> = ranges
            .into_iter()
            .map(|(a, b)| (line.norm(a), line.norm(b)))
            .filter(|(a, b)| a < b)
            .collect();
        ranges.sort();
        let mut merged: Vec<(Pos, Pos)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        IntervalSet {
            line,
            ranges: merged,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn ranges(&self) -> &[(Pos, Pos)] {
        &self.ranges
    }

    pub fn union(&self, other: &Self) -> Self {
        let mut ranges = self.ranges.clone();
        ranges.extend_from_slice(&other.ranges);
        Self::from_ranges(self.line, ranges)
    }

    pub fn complement(&self) -> Self {
        let mut ranges = Vec::new();
        let mut from = Pos::NegInf;
        for &(a, b) in &self.ranges {
            if from < a {
                ranges.push((from, a));
            }
            from = b;
        }
        if from < Pos::PosInf {
            ranges.push((from, Pos::PosInf));
        }
        IntervalSet {
            line: self.line,
            ranges,
        }
    }

    pub fn intersection(&self, other: &Self) -> Self {
        self.complement().union(&other.complement()).complement()
    }

    pub fn contains(&self, x: Decimal) -> bool {
        let before = self.line.norm(Pos::At(x, false));
        let after = self.line.norm(Pos::At(x, true));
        if self.line == Line::Discrete && !x.fract().is_zero() {
            return false;
        }
        self.ranges.iter().any(|&(a, b)| a <= before && after <= b)
    }

    /// The finite cuts of the set, for splitting the line into elementary pieces.
    pub fn cuts(&self) -> impl Iterator<Item = Pos> + '_ {
        self.ranges
            .iter()
            .flat_map(|&(a, b)| [a, b])
            .filter(|p| matches!(p, Pos::At(..)))
    }
}

/// The elementary pieces of the line cut at `cuts`: consecutive `[a, b)`, all non-empty.
pub fn pieces(line: Line, cuts: impl IntoIterator<Item = Pos>) -> Vec<(Pos, Pos)> {
    let mut all: Vec<Pos> = cuts.into_iter().map(|p| line.norm(p)).collect();
    all.push(Pos::NegInf);
    all.push(Pos::PosInf);
    all.sort();
    all.dedup();
    all.windows(2).map(|w| (w[0], w[1])).collect()
}

/// A value inside the non-empty piece `[a, b)`, chosen to read well: a closed
/// end, else one step inside an open end, else the midpoint.
pub fn representative(line: Line, (a, b): (Pos, Pos)) -> Decimal {
    let inside = |x: Decimal| IntervalSet::from_ranges(line, vec![(a, b)]).contains(x);
    let step = match line {
        Line::Discrete => Decimal::ONE,
        Line::Dense(step) => step,
    };
    match (a, b) {
        (Pos::At(v, false), _) => v,
        (Pos::At(v, true), _) => {
            let next = v + step;
            if inside(next) {
                next
            } else if let Pos::At(w, _) = b {
                (v + w) / Decimal::TWO
            } else {
                next
            }
        }
        (Pos::NegInf, Pos::At(w, true)) => w,
        (Pos::NegInf, Pos::At(w, false)) => w - step,
        _ => Decimal::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    const MONEY: Line = Line::Dense(Decimal::from_parts(1, 0, 0, false, 2));

    #[test]
    fn discrete_ranges_touch() {
        let a = IntervalSet::interval(Line::Discrete, Some((d("1"), true)), Some((d("29"), true)));
        let b = IntervalSet::interval(Line::Discrete, Some((d("30"), true)), Some((d("59"), true)));
        let u = a.union(&b);
        assert_eq!(u.ranges().len(), 1);
        assert!(u.contains(d("29")) && u.contains(d("30")) && !u.contains(d("60")));
        // `> 5` is `>= 6` on integers.
        let gt5 = IntervalSet::interval(Line::Discrete, Some((d("5"), false)), None);
        let ge6 = IntervalSet::interval(Line::Discrete, Some((d("6"), true)), None);
        assert_eq!(gt5, ge6);
        // `(0..1)` is empty on integers, not on money.
        assert!(IntervalSet::interval(
            Line::Discrete,
            Some((d("0"), false)),
            Some((d("1"), false))
        )
        .is_empty());
        assert!(
            !IntervalSet::interval(MONEY, Some((d("0"), false)), Some((d("1"), false))).is_empty()
        );
        // A decimal bound on an integer line: `> 2.5` is `>= 3`.
        let gt = IntervalSet::interval(Line::Discrete, Some((d("2.5"), false)), None);
        assert!(!gt.contains(d("2")) && gt.contains(d("3")));
    }

    #[test]
    fn dense_boundaries() {
        let lt5 = IntervalSet::interval(MONEY, None, Some((d("5"), false)));
        let gt5 = IntervalSet::interval(MONEY, Some((d("5"), false)), None);
        let gap = lt5.union(&gt5).complement();
        assert_eq!(gap, IntervalSet::point(MONEY, d("5")));
        assert!(lt5.intersection(&gt5).is_empty());
        let le5 = IntervalSet::interval(MONEY, None, Some((d("5"), true)));
        assert_eq!(le5.intersection(&gt5.complement()), le5);
        assert_eq!(le5.union(&gt5), IntervalSet::all(MONEY));
        assert_eq!(
            IntervalSet::all(MONEY).complement(),
            IntervalSet::empty(MONEY)
        );
    }

    #[test]
    fn intersection_and_complement() {
        let a = IntervalSet::interval(MONEY, Some((d("0"), true)), Some((d("10"), true)));
        let b = IntervalSet::interval(MONEY, Some((d("5"), false)), Some((d("20"), false)));
        let i = a.intersection(&b);
        assert!(!i.contains(d("5")) && i.contains(d("5.0001")) && i.contains(d("10")));
        let c = i.complement();
        assert!(c.contains(d("5")) && !c.contains(d("7")) && c.contains(d("10.01")));
        assert_eq!(c.complement(), i);
    }

    #[test]
    fn representatives() {
        let cuts = IntervalSet::interval(MONEY, None, Some((d("5"), false))).union(
            &IntervalSet::interval(MONEY, Some((d("5"), false)), Some((d("5.005"), true))),
        );
        let ps = pieces(MONEY, cuts.cuts().collect::<Vec<_>>());
        let reps: Vec<Decimal> = ps.iter().map(|&p| representative(MONEY, p)).collect();
        // (-inf, 5) → 4.99; [5, 5] → 5; (5, 5.005] → midpoint; (5.005, inf) → 5.015
        assert_eq!(reps, vec![d("4.99"), d("5"), d("5.0025"), d("5.015")]);
        for (p, r) in ps.iter().zip(&reps) {
            assert!(IntervalSet::from_ranges(MONEY, vec![*p]).contains(*r));
        }
        let ints =
            IntervalSet::interval(Line::Discrete, Some((d("1"), true)), Some((d("29"), true)));
        let ps = pieces(Line::Discrete, ints.cuts().collect::<Vec<_>>());
        let reps: Vec<Decimal> = ps
            .iter()
            .map(|&p| representative(Line::Discrete, p))
            .collect();
        assert_eq!(reps, vec![d("0"), d("1"), d("30")]);
        assert_eq!(
            representative(Line::Discrete, (Pos::NegInf, Pos::PosInf)),
            d("0")
        );
    }
}
