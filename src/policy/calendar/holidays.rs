//! A calendar's holidays: the dates in order (for ranges and listings) and,
//! beside them, a bit per day from the first to the last, so that asking
//! whether a day is a holiday, as rolling an event date forward does for
//! every day it tries, is one bit test rather than a search of the thousand
//! or so dates a century of yearly holidays expands to.

use std::collections::BTreeSet;
use std::ops::RangeBounds;

use chrono::{Datelike, NaiveDate};

/// The longest span of days (about 11,000 years) indexed by bits; holidays
/// spread wider are searched in the set instead.
const MAX_INDEXED_DAYS: i64 = 1 << 22;

#[derive(Clone, Debug, Default)]
pub struct Holidays {
    dates: BTreeSet<NaiveDate>,
    /// Whether `bits` holds every date (the span fitted).
    indexed: bool,
    /// The first holiday, in days from the common era.
    first: i32,
    /// Bit `i` set: the day `first + i` is a holiday.
    bits: Vec<u64>,
}

impl PartialEq for Holidays {
    fn eq(&self, other: &Self) -> bool {
        self.dates == other.dates
    }
}

impl Eq for Holidays {}

impl Holidays {
    #[inline]
    pub fn contains(&self, d: &NaiveDate) -> bool {
        if !self.indexed {
            return self.dates.contains(d);
        }
        let Ok(i) = usize::try_from(i64::from(d.num_days_from_ce()) - i64::from(self.first)) else {
            return false;
        };
        self.bits
            .get(i / 64)
            .is_some_and(|word| word >> (i % 64) & 1 == 1)
    }

    /// Adds a holiday; true if it was not one already.
    pub fn insert(&mut self, d: NaiveDate) -> bool {
        let added = self.dates.insert(d);
        if added {
            self.index();
        }
        added
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &NaiveDate> + '_ {
        self.dates.iter()
    }

    pub fn range<R: RangeBounds<NaiveDate>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = &NaiveDate> + '_ {
        self.dates.range(range)
    }

    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Rebuilds the bits from the dates (when the dates change: loading, tests).
    fn index(&mut self) {
        self.bits.clear();
        self.indexed = false;
        let (Some(first), Some(last)) = (self.dates.first(), self.dates.last()) else {
            self.indexed = true;
            return;
        };
        let (first, last) = (first.num_days_from_ce(), last.num_days_from_ce());
        let span = i64::from(last) - i64::from(first);
        if span >= MAX_INDEXED_DAYS {
            return;
        }
        self.first = first;
        self.bits = vec![0; span as usize / 64 + 1];
        for d in &self.dates {
            let i = (d.num_days_from_ce() - first) as usize;
            self.bits[i / 64] |= 1 << (i % 64);
        }
        self.indexed = true;
    }
}

impl Extend<NaiveDate> for Holidays {
    fn extend<I: IntoIterator<Item = NaiveDate>>(&mut self, dates: I) {
        self.dates.extend(dates);
        self.index();
    }
}

impl FromIterator<NaiveDate> for Holidays {
    fn from_iter<I: IntoIterator<Item = NaiveDate>>(dates: I) -> Self {
        let mut holidays = Holidays::default();
        holidays.extend(dates);
        holidays
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(n: i32) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(n).expect("in range")
    }

    proptest! {
        /// The bits answer what the set answers, for days inside, beside and
        /// far outside the holidays' span, and for spans too wide to index.
        #[test]
        fn contains_says_what_the_set_says(
            days in prop::collection::vec(prop_oneof![730_000i32..740_000, -3_000_000i32..3_000_000], 0..40),
            asked in prop::collection::vec(prop_oneof![729_900i32..740_100, -3_100_000i32..3_100_000], 1..80),
        ) {
            let holidays: Holidays = days.iter().map(|&n| day(n)).collect();
            let set: BTreeSet<NaiveDate> = days.iter().map(|&n| day(n)).collect();
            for n in asked.iter().chain(&days) {
                prop_assert_eq!(holidays.contains(&day(*n)), set.contains(&day(*n)), "day {}", n);
            }
        }
    }

    #[test]
    fn inserting_keeps_the_bits_current() {
        let mut holidays = Holidays::default();
        assert!(!holidays.contains(&day(738_000)));
        assert!(holidays.insert(day(738_000)));
        assert!(holidays.insert(day(737_000)));
        assert!(!holidays.insert(day(737_000)));
        for n in [737_000, 738_000] {
            assert!(holidays.contains(&day(n)));
        }
        for n in [736_999, 737_001, 737_999, 738_001] {
            assert!(!holidays.contains(&day(n)));
        }
        assert_eq!(holidays.len(), 2);
    }
}
