//! Work calendars: business days, holidays, rolling dates forward, and building one from its
//! `calendar` document (holiday dates, yearly rules such as `12-25`, `fourth thursday of
//! november` or `easter - 2`, and the observance rule that gives a weekend holiday its weekday off).
//! It must not read the clock: dates come in.

mod holidays;

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included};
use std::sync::Arc;

use chrono::{Datelike, Days, Month, NaiveDate, Weekday};

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::doc::{CalendarDoc, HolidayDoc};
use crate::model::spanned::{CellText, Spanned};
use crate::source::{SourceFile, Span};
pub use holidays::Holidays;

/// The years a yearly holiday is expanded for: dates outside them see only explicit holidays.
pub const YEARLY_HOLIDAY_YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

/// The longest run of consecutive non-business days searched before giving up (a year, leap or not).
const MAX_GAP_DAYS: u32 = 366;

const ALL_WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// A work calendar: which days are business days (trigger dates, promise grace periods honour it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkCalendar {
    pub name: String,
    /// Days that are never business days (e.g. Saturday, Sunday).
    pub weekend: Vec<Weekday>,
    /// Specific non-business dates.
    pub holidays: Holidays,
}

impl WorkCalendar {
    /// Saturday and Sunday off, no holidays.
    pub fn weekdays(name: &str) -> Self {
        WorkCalendar {
            name: name.to_string(),
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: Holidays::default(),
        }
    }

    fn is_weekend(&self, wd: Weekday) -> bool {
        self.weekend.contains(&wd)
    }

    /// Business days in a full week (0..=7; duplicates in `weekend` count once).
    fn business_days_per_week(&self) -> i64 {
        ALL_WEEKDAYS
            .iter()
            .filter(|wd| !self.is_weekend(**wd))
            .count() as i64
    }

    pub fn is_business_day(&self, d: NaiveDate) -> bool {
        !self.is_weekend(d.weekday()) && !self.holidays.contains(&d)
    }

    /// `d` itself if it is a business day, else the next business day. None if none within 366 days
    /// (a calendar that declares every day off) or on date overflow.
    ///
    /// "Within 366 days" means `d` and the 366 days after it are searched.
    pub fn roll_forward(&self, d: NaiveDate) -> Option<NaiveDate> {
        let mut cur = d;
        for _ in 0..MAX_GAP_DAYS {
            if self.is_business_day(cur) {
                return Some(cur);
            }
            cur = cur.succ_opt()?;
        }
        self.is_business_day(cur).then_some(cur)
    }

    /// The date `n` business days after `d` (n = 0: roll_forward(d)). Counting starts the day after `d`.
    ///
    /// None on date overflow, when the calendar has no business day at all, or when the walk meets
    /// more than 366 consecutive non-business days. Stretches without holidays are jumped a whole
    /// number of weeks at a time, so a large `n` costs about the number of holidays crossed.
    pub fn add_business_days(&self, d: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return self.roll_forward(d);
        }
        let per_week = self.business_days_per_week();
        if per_week == 0 {
            return None;
        }
        let mut cur = d;
        let mut remaining = i64::from(n);
        // Non-business days since the last business day (or since `d`).
        let mut gap = 0u32;
        while remaining > 0 {
            if remaining > per_week {
                // Jump whole weeks, leaving at least one business day to walk, so the result is
                // always reached by a step onto a business day.
                let weeks = (remaining - 1) / per_week;
                let days = u64::try_from(weeks).ok()?.checked_mul(7)?;
                // If this overflows, so does the answer: the span holds < `remaining` business days.
                let next = cur.checked_add_days(Days::new(days))?;
                let counted = self.business_days_between(cur, next);
                if counted == weeks * per_week {
                    // No holiday on a working weekday in the span: only weekend runs, at most 6 days.
                    remaining -= counted;
                    cur = next;
                    gap = self.trailing_weekend_days(cur);
                    continue;
                }
            }
            cur = cur.succ_opt()?;
            if self.is_business_day(cur) {
                remaining -= 1;
                gap = 0;
            } else {
                gap += 1;
                if gap > MAX_GAP_DAYS {
                    return None;
                }
            }
        }
        Some(cur)
    }

    /// How many days ending at `d` (inclusive) fall on weekend weekdays (0..=6 when some weekday works).
    fn trailing_weekend_days(&self, d: NaiveDate) -> u32 {
        let mut wd = d.weekday();
        let mut n = 0;
        while n < 7 && self.is_weekend(wd) {
            n += 1;
            wd = wd.pred();
        }
        n
    }

    /// Business days in (a, b]: how many business days after `a` up to and including `b`; negative if b < a.
    ///
    /// Computed by whole weeks plus a remainder, minus the holidays that fall on working weekdays,
    /// so the cost does not grow with the distance.
    pub fn business_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.business_days_between(b, a);
        }
        let days = b.signed_duration_since(a).num_days();
        let mut count = (days / 7) * self.business_days_per_week();
        // The remainder days follow `a` by 1..=rem days modulo whole weeks: same weekdays.
        let mut wd = a.weekday();
        for _ in 0..days % 7 {
            wd = wd.succ();
            if !self.is_weekend(wd) {
                count += 1;
            }
        }
        let holidays = self
            .holidays
            .range((Excluded(a), Included(b)))
            .filter(|h| !self.is_weekend(h.weekday()))
            .count() as i64;
        count - holidays
    }
}

/// How a holiday that falls on a weekend is given a weekday off. The holiday's own date stays a holiday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observance {
    /// No day in lieu.
    None,
    /// Saturday → the Friday before, Sunday → the Monday after (US federal, 5 U.S.C. 6103(b);
    /// pandas' `nearest_workday`).
    NearestWeekday,
    /// A holiday on a weekend day → the next weekday that is not already a day off (UK
    /// substitute days: Christmas on a Saturday → Monday 27th, Boxing Day on the Sunday →
    /// Tuesday 28th). It depends on the other holidays, so [`from_doc`] gives it, not [`Observance::observed`].
    NextFreeWeekday,
}

impl Observance {
    pub const NAMES: [&'static str; 3] = ["none", "nearest_weekday", "next_free_weekday"];

    fn parse(text: &str) -> Option<Observance> {
        match text {
            "none" => Some(Observance::None),
            "nearest_weekday" => Some(Observance::NearestWeekday),
            "next_free_weekday" => Some(Observance::NextFreeWeekday),
            _ => None,
        }
    }

    /// The day off in lieu of a holiday on `d` that the date alone decides, if it is not `d`
    /// itself (`next_free_weekday`'s depends on the other holidays: [`substitute_days`]).
    pub fn observed(self, d: NaiveDate) -> Option<NaiveDate> {
        match (self, d.weekday()) {
            (Observance::NearestWeekday, Weekday::Sat) => d.pred_opt(),
            (Observance::NearestWeekday, Weekday::Sun) => d.succ_opt(),
            _ => None,
        }
    }
}

/// When a holiday falls: once, or every year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HolidayDate {
    /// `2026-11-26`
    Once(NaiveDate),
    /// `12-25`: every year on that month and day.
    Yearly { month: u32, day: u32 },
    /// `fourth thursday of november`, `last monday of may`: `nth` 1..=4, or -1 for the last.
    NthWeekday {
        nth: i8,
        weekday: Weekday,
        month: u32,
    },
    /// `easter - 2` (Good Friday), `easter + 1` (Easter Monday): days from Easter Sunday.
    Easter { offset: i16 },
}

/// The furthest an Easter-relative holiday may be from Easter Sunday (Whit Monday is +50,
/// Corpus Christi +60, Shrove Tuesday −47); the date stays in Easter's year.
pub const MAX_EASTER_OFFSET: i16 = 80;

/// Easter Sunday of a Gregorian `year`: the anonymous Gregorian computus (Meeus–Jones–Butcher,
/// 1876), exact for every Gregorian year.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let n = h + l - 7 * m + 114;
    NaiveDate::from_ymd_opt(year, (n / 31) as u32, (n % 31 + 1) as u32)
}

const ORDINALS: [(&str, i8); 5] = [
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("last", -1),
];

const HOLIDAY_FORMS: &str = "write a holiday as a date (`2026-11-26`), a month and day every year (`12-25`), a weekday of a month every year (`fourth thursday of november`, `last monday of may`), or days from Easter Sunday every year (`easter - 2`, `easter + 1`)";

impl HolidayDate {
    /// Reads one of the four forms; the error says what is wrong.
    pub fn parse(text: &str) -> Result<HolidayDate, String> {
        let text = text.trim();
        if let Some(easter) = Self::parse_easter(text) {
            return easter;
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        if let [nth, weekday, "of", month] = words.as_slice() {
            let nth = match ORDINALS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(nth))
            {
                Some((_, n)) => *n,
                None if nth.eq_ignore_ascii_case("fifth") => {
                    return Err("not every month has a fifth weekday: use `last`".into())
                }
                None => {
                    return Err(format!(
                        "`{nth}` is not `first`, `second`, `third`, `fourth` or `last`"
                    ))
                }
            };
            let weekday = weekday
                .parse::<Weekday>()
                .map_err(|_| not_a_name(weekday, "weekday", &WEEKDAY_NAMES))?;
            let month = month
                .parse::<Month>()
                .map_err(|_| not_a_name(month, "month", &MONTH_NAMES))?;
            return Ok(HolidayDate::NthWeekday {
                nth,
                weekday,
                month: month.number_from_month(),
            });
        }
        if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(HolidayDate::Once(d));
        }
        if let Some((m, d)) = text.split_once('-') {
            if let (Ok(month), Ok(day)) = (m.parse::<u32>(), d.parse::<u32>()) {
                if m.len() == 2 && d.len() == 2 {
                    if (month, day) == (2, 29) {
                        return Err("not every year has 29 February: list its dates".into());
                    }
                    // 2001 is not a leap year: the month-days every year has.
                    if NaiveDate::from_ymd_opt(2001, month, day).is_some() {
                        return Ok(HolidayDate::Yearly { month, day });
                    }
                    return Err(format!("`{text}` is not a month and day"));
                }
            }
        }
        Err(format!("`{text}` is not a holiday date"))
    }

    /// `easter`, `easter + 1`, `easter - 2` (spaces optional, `days` allowed after the number);
    /// None when the text does not start with `easter`.
    fn parse_easter(text: &str) -> Option<Result<HolidayDate, String>> {
        let lower = text.to_ascii_lowercase();
        let rest = lower.strip_prefix("easter")?;
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("sunday").unwrap_or(rest).trim();
        if rest.is_empty() {
            return Some(Ok(HolidayDate::Easter { offset: 0 }));
        }
        let wrong = || {
            format!("`{text}` is not days from Easter Sunday: write `easter`, `easter + 1` or `easter - 2`")
        };
        let (sign, number) = match (rest.strip_prefix('+'), rest.strip_prefix('-')) {
            (Some(n), _) => (1, n),
            (_, Some(n)) => (-1, n),
            _ => return Some(Err(wrong())),
        };
        let number = number.trim();
        let number = ["days", "day"]
            .iter()
            .find_map(|unit| number.strip_suffix(unit))
            .unwrap_or(number)
            .trim();
        let Ok(days) = number.parse::<i16>() else {
            return Some(Err(wrong()));
        };
        if days > MAX_EASTER_OFFSET {
            return Some(Err(format!(
                "`{text}`: an Easter holiday is at most {MAX_EASTER_OFFSET} days from Easter Sunday"
            )));
        }
        Some(Ok(HolidayDate::Easter {
            offset: sign * days,
        }))
    }

    /// The holiday's date in `year`, if it falls in it.
    pub fn in_year(self, year: i32) -> Option<NaiveDate> {
        match self {
            HolidayDate::Once(d) => (d.year() == year).then_some(d),
            HolidayDate::Yearly { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            HolidayDate::NthWeekday {
                nth,
                weekday,
                month,
            } => {
                if nth > 0 {
                    NaiveDate::from_weekday_of_month_opt(year, month, weekday, nth as u8)
                } else {
                    // The last: the fifth if there is one, else the fourth.
                    NaiveDate::from_weekday_of_month_opt(year, month, weekday, 5)
                        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, weekday, 4))
                }
            }
            HolidayDate::Easter { offset } => {
                let easter = easter_sunday(year)?;
                let days = Days::new(u64::from(offset.unsigned_abs()));
                match offset < 0 {
                    true => easter.checked_sub_days(days),
                    false => easter.checked_add_days(days),
                }
            }
        }
    }
}

const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// "`agust` is not a month", with the name probably meant.
fn not_a_name(text: &str, what: &str, names: &[&str]) -> String {
    match crate::diagnostic::nearest(&text.to_ascii_lowercase(), names.iter().copied()) {
        Some(meant) => format!("`{text}` is not a {what}; did you mean `{meant}`?"),
        None => format!("`{text}` is not a {what}"),
    }
}

/// One declared holiday, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holiday {
    pub date: HolidayDate,
    pub observance: Observance,
    /// Years a yearly holiday is kept in (inclusive).
    pub years: (i32, i32),
    /// Years inside them it is not kept (moved that year: the new date is listed as a one-off).
    pub except: Vec<i32>,
}

impl Holiday {
    /// The holiday's own dates, in its years.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        let (first, last) = match self.date {
            HolidayDate::Once(d) => (d.year(), d.year()),
            _ => (
                self.years.0.max(*YEARLY_HOLIDAY_YEARS.start()),
                self.years.1.min(*YEARLY_HOLIDAY_YEARS.end()),
            ),
        };
        (first..=last)
            .filter(|year| !self.except.contains(year))
            .filter_map(|year| self.date.in_year(year))
    }

    /// Every day off the holiday gives by itself: its dates and the days observed in lieu that
    /// the date alone decides (`next_free_weekday`'s come from [`substitute_days`]).
    pub fn days_off(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.dates()
            .flat_map(|d| std::iter::once(d).chain(self.observance.observed(d)))
    }
}

/// Gives each of `weekend_holidays` (`next_free_weekday` holidays' dates) that falls on a
/// `weekend` day the first later day that is neither a weekend day nor already off, in date
/// order, so that two weekend holidays in a row get two days (Christmas on a Saturday →
/// Monday, Boxing Day on the Sunday → Tuesday) and a substitute never lands on a holiday.
pub fn substitute_days(
    weekend: &[Weekday],
    weekend_holidays: &mut [NaiveDate],
    days_off: &mut BTreeSet<NaiveDate>,
) {
    weekend_holidays.sort_unstable();
    for holiday in weekend_holidays.iter() {
        if !weekend.contains(&holiday.weekday()) {
            continue;
        }
        let free = holiday
            .iter_days()
            .skip(1)
            .take(MAX_GAP_DAYS as usize)
            .find(|d| !weekend.contains(&d.weekday()) && !days_off.contains(d));
        if let Some(day) = free {
            days_off.insert(day);
        }
    }
}

/// Builds a work calendar from its document; every malformed entry is a diagnostic at its
/// cell (and left out), so one lint run shows them all.
pub fn from_doc(
    file: &Arc<SourceFile>,
    doc: &CalendarDoc,
    diags: &mut Vec<Diagnostic>,
) -> WorkCalendar {
    let mut reader = DocReader { file, diags };
    let weekend = match &doc.weekend {
        None => vec![Weekday::Sat, Weekday::Sun],
        Some(days) => days
            .iter()
            .filter_map(|d| match d.value.parse::<Weekday>() {
                Ok(w) => Some(w),
                Err(_) => reader.error(
                    d.span,
                    format!("`{}` is not a weekday", d.value),
                    "write weekdays as `saturday`, `sunday` (or `sat`, `sun`)",
                ),
            })
            .collect(),
    };
    let mut days_off = BTreeSet::new();
    let mut substituted = Vec::new();
    for (_, h) in reader.holidays(doc) {
        days_off.extend(h.days_off());
        if h.observance == Observance::NextFreeWeekday {
            substituted.extend(h.dates());
        }
    }
    substitute_days(&weekend, &mut substituted, &mut days_off);
    WorkCalendar {
        name: doc.calendar.value.clone(),
        weekend,
        holidays: days_off.into_iter().collect(),
    }
}

/// The calendar's holidays, checked as [`from_doc`] checks them (the same
/// diagnostics, here dropped), each with its name, or its date as written
/// when it has none: the policy site says which day off is which holiday.
pub fn named_holidays(file: &Arc<SourceFile>, doc: &CalendarDoc) -> Vec<(String, Holiday)> {
    let mut diags = Vec::new();
    DocReader {
        file,
        diags: &mut diags,
    }
    .holidays(doc)
}

/// Reports a calendar document's malformed entries.
struct DocReader<'a> {
    file: &'a Arc<SourceFile>,
    diags: &'a mut Vec<Diagnostic>,
}

impl DocReader<'_> {
    /// Every holiday entry checked, with its name (or its date as written).
    fn holidays(&mut self, doc: &CalendarDoc) -> Vec<(String, Holiday)> {
        let default_observance = match &doc.observance {
            None => Some(Observance::None),
            Some(text) => self.observance(text),
        };
        let mut holidays = Vec::new();
        for entry in &doc.holidays {
            let (label, holiday) = match &entry.value {
                HolidayDoc::On(text) => (
                    text.trim().to_string(),
                    self.holiday(text, entry.span, None, None, &[], default_observance),
                ),
                HolidayDoc::Rule(rule) => {
                    let observance = match &rule.observance {
                        None => default_observance,
                        Some(text) => self.observance(text),
                    };
                    let label = rule
                        .name
                        .clone()
                        .unwrap_or_else(|| rule.on.value.0.trim().to_string());
                    let holiday = self.holiday(
                        &rule.on.value.0,
                        rule.on.span,
                        rule.from.as_ref(),
                        rule.until.as_ref(),
                        &rule.except,
                        observance,
                    );
                    (label, holiday)
                }
            };
            if let Some(h) = holiday {
                holidays.push((label, h));
            }
        }
        holidays
    }

    /// Reports an error at `span`; None, for the entry it leaves out.
    fn error<T>(&mut self, span: Span, message: String, help: impl Into<String>) -> Option<T> {
        self.diags
            .push(Diagnostic::error("calendar", self.file, span, message).with_help(help));
        None
    }

    fn observance(&mut self, text: &Spanned<String>) -> Option<Observance> {
        Observance::parse(&text.value).or_else(|| {
            let help = did_you_mean(&text.value, Observance::NAMES).unwrap_or_else(|| {
                "write `nearest_weekday` (Saturday → Friday before, Sunday → Monday after), `next_free_weekday` (a weekend holiday → the next weekday not already off) or `none`"
                    .into()
            });
            self.error(
                text.span,
                format!("`{}` is not an observance rule", text.value),
                help,
            )
        })
    }

    /// One holiday entry checked: its date text, its years, its observance (None: already reported).
    fn holiday(
        &mut self,
        on: &str,
        span: Span,
        from: Option<&Spanned<CellText>>,
        until: Option<&Spanned<CellText>>,
        except: &[Spanned<CellText>],
        observance: Option<Observance>,
    ) -> Option<Holiday> {
        let date = match HolidayDate::parse(on) {
            Ok(date) => Some(date),
            Err(message) => self.error(span, message, HOLIDAY_FORMS),
        };
        let once = matches!(date, Some(HolidayDate::Once(_)));
        let first = self.year(from, *YEARLY_HOLIDAY_YEARS.start(), once, on);
        let last = self.year(until, *YEARLY_HOLIDAY_YEARS.end(), once, on);
        let (first, last) = (first?, last?);
        if first > last {
            let span = until.map_or(span, |u| u.span);
            return self.error(
                span,
                format!("`until: {last}` is before `from: {first}`"),
                "`from` and `until` are the first and last year the holiday is kept",
            );
        }
        let mut skipped = Vec::new();
        for year in except {
            if let Some(y) = self.year(Some(year), first, once, on) {
                if !(first..=last).contains(&y) {
                    self.error::<()>(
                        year.span,
                        format!("{y} is not a year the holiday is kept ({first} to {last})"),
                        "`except` lists years between `from` and `until` the holiday is not kept",
                    );
                } else if skipped.contains(&y) {
                    self.error::<()>(
                        year.span,
                        format!("{y} is listed twice"),
                        "list each year once",
                    );
                } else {
                    skipped.push(y);
                }
            }
        }
        if skipped.len() != except.len() {
            return None;
        }
        // Checked after the years, so a bad observance rule does not hide a bad year.
        let (date, observance) = (date?, observance?);
        Some(Holiday {
            date,
            observance,
            years: (first, last),
            except: skipped,
        })
    }

    /// A `from` / `until` year, or `default` when it is not given.
    fn year(
        &mut self,
        bound: Option<&Spanned<CellText>>,
        default: i32,
        once: bool,
        on: &str,
    ) -> Option<i32> {
        let Some(bound) = bound else {
            return Some(default);
        };
        if once {
            return self.error(
                bound.span,
                format!(
                    "`from`, `until` and `except` are for yearly holidays; `{}` is one date",
                    on.trim()
                ),
                "remove it, or write the holiday as `12-25` or `fourth thursday of november`",
            );
        }
        match bound.value.0.trim().parse::<i32>() {
            Ok(y) if YEARLY_HOLIDAY_YEARS.contains(&y) => Some(y),
            _ => self.error(
                bound.span,
                format!(
                    "`{}` is not a year from {} to {}",
                    bound.value.0,
                    YEARLY_HOLIDAY_YEARS.start(),
                    YEARLY_HOLIDAY_YEARS.end()
                ),
                "yearly holidays are expanded for those years",
            ),
        }
    }
}

#[cfg(test)]
mod tests;
