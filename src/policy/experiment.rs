//! Champion/challenger: sticky arm assignment by hash of account id and salt.
//!
//! An experiment has a fixed space of 10,000 buckets; each account falls in one by [`bucket`], a
//! stable hash of the experiment's salt and the account id, and each bucket is owned by one arm
//! ([`Experiment::owner`]), so the same account stays in the same arm across runs, machines and
//! versions. Arms own explicit bucket ranges (`buckets: 0-7999`), or take their share from a named
//! arm (`take_from: champion`, its highest buckets), so adding, resizing or removing an arm moves
//! only the accounts of the buckets that change hands ([`layout`]); an experiment written with
//! shares alone keeps the old layout (consecutive ranges in declaration order). Changing the salt
//! re-shuffles the population. It must not use randomness or the clock.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use xxhash_rust::xxh3::Xxh3;

/// Shares are in basis points: 10_000 = 100%.
pub const FULL_SHARE: u32 = 10_000;

/// Separator between salt and account id in the hashed bytes (ASCII unit separator), so that
/// `("ab", "c")` and `("a", "bc")` hash differently.
const SEPARATOR: u8 = 0x1F;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arm {
    pub name: String,
    /// Basis points of the population.
    pub share: u32,
    /// Template to use instead of the collection class's own (None: keep it).
    pub template: Option<String>,
    /// A hold-out arm receives no treatment change and is the control group.
    pub holdout: bool,
    /// `experiment:name/arm`, the rule ref of the actions it causes.
    pub rule_ref: crate::lang::compile::RuleRef,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Experiment {
    pub name: String,
    pub salt: String,
    pub arms: Vec<Arm>,
    /// Per bucket (`FULL_SHARE` of them), the index of the arm that owns it.
    pub owner: Vec<u16>,
}

/// How one arm says which buckets it owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// `share` alone, in an experiment where no arm names buckets: consecutive ranges in order.
    Consecutive(u32),
    /// `buckets: 0-7999, 9500-9999` (inclusive ranges).
    Buckets(Vec<(u32, u32)>),
    /// `share: 10%, take_from: champion`: that many of the named arm's highest buckets.
    TakeFrom(u32, String),
}

/// Parses `0-7999, 9500-9999` (inclusive, each below `FULL_SHARE`); a lone number is one bucket.
pub fn parse_ranges(text: &str) -> Result<Vec<(u32, u32)>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let number = |t: &str| {
            t.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n < FULL_SHARE)
                .ok_or_else(|| format!("`{part}` is not a bucket range (0 to 9999, as `0-7999`)"))
        };
        let (a, b) = (number(a)?, number(b)?);
        if b < a {
            return Err(format!("`{part}` ends before it starts"));
        }
        out.push((a, b));
    }
    Ok(out)
}

/// Bucket ranges written back: `0-7999, 9500-9999`.
pub fn show_ranges(ranges: &[(u32, u32)]) -> String {
    let parts: Vec<String> = ranges
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    parts.join(", ")
}

/// Why the arms' claims do not lay out, and where: `arm` is the index of the
/// arm whose claim is wrong (its `buckets` or `take_from`), `None` for buckets
/// no arm claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutProblem {
    pub arm: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

/// The owner of every bucket from the arms' claims (arm names in order), or the
/// problems: a bucket claimed twice or by no arm, a `take_from` naming no arm or
/// more buckets than that arm has, consecutive shares mixed with bucket ranges.
pub fn layout(names: &[&str], claims: &[Claim]) -> Result<Vec<u16>, Vec<LayoutProblem>> {
    const FREE: u16 = u16::MAX;
    let mut owner = vec![FREE; FULL_SHARE as usize];
    let mut problems = Vec::new();
    let mut problem = |arm: Option<usize>, message: String, help: Option<String>| {
        problems.push(LayoutProblem { arm, message, help });
    };
    if claims.iter().all(|c| matches!(c, Claim::Consecutive(_))) {
        let mut start = 0usize;
        for (i, claim) in claims.iter().enumerate() {
            let Claim::Consecutive(share) = claim else {
                unreachable!()
            };
            let end = (start + *share as usize).min(owner.len());
            owner[start..end].fill(i as u16);
            start = end;
        }
        // Shares short of 100% (reported by `validate`): the last arm takes the rest.
        let last = claims.len().saturating_sub(1) as u16;
        owner[start..].fill(last);
        return Ok(owner);
    }
    for (i, claim) in claims.iter().enumerate() {
        match claim {
            Claim::Buckets(ranges) => {
                for &(a, b) in ranges {
                    // Each run of buckets another arm already holds is reported once; the earlier claim stands.
                    let mut clash: Option<(u16, u32, u32)> = None;
                    let mut report = |clash: Option<(u16, u32, u32)>| {
                        if let Some((other, from, to)) = clash {
                            let which = match from == to {
                                true => format!("bucket {from} is"),
                                false => format!("buckets {from}-{to} are"),
                            };
                            problem(
                                Some(i),
                                format!(
                                    "{which} claimed by `{}` and `{}`",
                                    names[other as usize], names[i]
                                ),
                                Some("every bucket 0 to 9999 belongs to exactly one arm".into()),
                            );
                        }
                    };
                    for bucket in a..=b {
                        let slot = &mut owner[bucket as usize];
                        if *slot != FREE && *slot != i as u16 {
                            clash = match clash {
                                Some((other, from, to)) if other == *slot && to + 1 == bucket => {
                                    Some((other, from, bucket))
                                }
                                previous => {
                                    report(previous);
                                    Some((*slot, bucket, bucket))
                                }
                            };
                            continue;
                        }
                        *slot = i as u16;
                    }
                    report(clash);
                }
            }
            Claim::Consecutive(_) => problem(
                Some(i),
                format!(
                    "arm `{}` gives a share but no `buckets` or `take_from`, and other arms name their buckets",
                    names[i]
                ),
                Some("give it its buckets: `buckets: 0-7999`, or `take_from: ARM`".into()),
            ),
            Claim::TakeFrom(..) => {}
        }
    }
    for (i, claim) in claims.iter().enumerate() {
        let Claim::TakeFrom(share, donor) = claim else {
            continue;
        };
        let Some(d) = names.iter().position(|n| n == donor) else {
            problem(
                Some(i),
                format!(
                    "arm `{}` takes from `{donor}`, which is not an arm",
                    names[i]
                ),
                crate::diagnostic::did_you_mean(donor, names.iter().copied())
                    .or_else(|| Some(format!("name one of the arms: {}", names.join(", ")))),
            );
            continue;
        };
        let held: Vec<usize> = (0..owner.len()).filter(|&b| owner[b] == d as u16).collect();
        if held.len() <= *share as usize || d == i {
            problem(
                Some(i),
                format!(
                    "arm `{}` takes {} buckets from `{donor}`, which has {}",
                    names[i],
                    share,
                    held.len()
                ),
                Some("an arm gives away fewer buckets than it holds".into()),
            );
            continue;
        }
        for &b in &held[held.len() - *share as usize..] {
            owner[b] = i as u16;
        }
    }
    let free = ranges_of(&owner, FREE);
    if !free.is_empty() {
        problem(
            None,
            format!(
                "{} to no arm; add {} to an arm's `buckets` (a removed arm's buckets go back to an arm named here)",
                match free.as_slice() {
                    [(a, b)] if a == b => format!("bucket {a} belongs"),
                    _ => format!("buckets {} belong", show_ranges(&free)),
                },
                match free.as_slice() {
                    [(a, b)] if a == b => "it",
                    _ => "them",
                }
            ),
            Some("every bucket 0 to 9999 belongs to exactly one arm".into()),
        );
    }
    if problems.is_empty() {
        Ok(owner)
    } else {
        Err(problems)
    }
}

/// The ranges of buckets owned by `arm`.
pub fn ranges_of(owner: &[u16], arm: u16) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (b, &o) in owner.iter().enumerate() {
        if o != arm {
            continue;
        }
        match out.last_mut() {
            Some((_, end)) if *end + 1 == b as u32 => *end = b as u32,
            _ => out.push((b as u32, b as u32)),
        }
    }
    out
}

/// Converts a percentage written by an analyst (e.g. Decimal 12.5 for 12.5%) to basis points;
/// None if it is negative, above 100, or finer than 0.01%.
pub fn percent_to_basis_points(percent: Decimal) -> Option<u32> {
    let bp = percent.checked_mul(Decimal::ONE_HUNDRED)?;
    if !bp.fract().is_zero() || bp < Decimal::ZERO || bp > Decimal::from(FULL_SHARE) {
        return None;
    }
    bp.to_u32()
}

/// The account's position in 0..FULL_SHARE for this salt: xxh3_64 of `salt`, a 0x1F separator byte, and
/// `account_id` (UTF-8 bytes), reduced to 0..10_000 without modulo bias worth mentioning (e.g. `(h as u128 * 10_000) >> 64`).
/// Stable across runs, machines and versions: it is part of the file format's meaning.
pub fn bucket(salt: &str, account_id: &str) -> u32 {
    // Streaming gives the same digest as one-shot `xxh3_64` over the concatenated bytes.
    let mut hasher = Xxh3::new();
    hasher.update(salt.as_bytes());
    hasher.update(&[SEPARATOR]);
    hasher.update(account_id.as_bytes());
    let h = hasher.digest();
    // Multiply-shift range reduction: result < FULL_SHARE, so the cast cannot truncate.
    ((u128::from(h) * u128::from(FULL_SHARE)) >> 64) as u32
}

/// Formats basis points as a percentage without trailing zeros: 9500 → `95%`, 1250 → `12.5%`.
pub fn format_percent(basis_points: u64) -> String {
    let whole = basis_points / 100;
    let frac = basis_points % 100;
    if frac == 0 {
        format!("{whole}%")
    } else if frac.is_multiple_of(10) {
        format!("{whole}.{}%", frac / 10)
    } else {
        format!("{whole}.{frac:02}%")
    }
}

impl Experiment {
    /// An experiment whose arms take consecutive bucket ranges in declaration
    /// order, by their shares (an experiment file written with shares alone).
    pub fn consecutive(name: &str, salt: &str, arms: Vec<Arm>) -> Experiment {
        let claims: Vec<Claim> = arms.iter().map(|a| Claim::Consecutive(a.share)).collect();
        let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
        let owner = layout(&names, &claims).expect("consecutive shares always lay out");
        Experiment {
            name: name.to_string(),
            salt: salt.to_string(),
            arms,
            owner,
        }
    }

    /// The arm for an account: the owner of its bucket.
    ///
    /// # Panics
    ///
    /// If the experiment has no arms (reported by `validate`).
    pub fn assign(&self, account_id: &str) -> &Arm {
        assert!(
            !self.arms.is_empty(),
            "experiment `{}` has no arms",
            self.name
        );
        &self.arms[usize::from(self.owner[bucket(&self.salt, account_id) as usize])]
    }

    /// Problems with the declaration, as plain lowercase messages with values in backticks:
    /// shares not totalling 100% (say the total, e.g. "arm shares total `95%`, not `100%`"), no arms,
    /// duplicate arm names, more than one hold-out arm, a zero share.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.arms.is_empty() {
            problems.push("experiment has no arms".to_string());
            return problems;
        }

        let total: u64 = self.arms.iter().map(|arm| u64::from(arm.share)).sum();
        if total != u64::from(FULL_SHARE) {
            problems.push(format!(
                "arm shares total `{}`, not `{}`",
                format_percent(total),
                format_percent(u64::from(FULL_SHARE))
            ));
        }

        let mut reported_duplicates: Vec<&str> = Vec::new();
        for (i, arm) in self.arms.iter().enumerate() {
            let name = arm.name.as_str();
            let seen_before = self.arms[..i].iter().any(|a| a.name == name);
            if seen_before && !reported_duplicates.contains(&name) {
                reported_duplicates.push(name);
                problems.push(format!("duplicate arm name `{name}`"));
            }
        }

        let holdouts: Vec<String> = self
            .arms
            .iter()
            .filter(|arm| arm.holdout)
            .map(|arm| format!("`{}`", arm.name))
            .collect();
        if holdouts.len() > 1 {
            problems.push(format!(
                "more than one hold-out arm: {}",
                holdouts.join(", ")
            ));
        }

        for arm in self.arms.iter().filter(|arm| arm.share == 0) {
            problems.push(format!("arm `{}` has a zero share", arm.name));
        }

        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn arm(name: &str, share: u32, holdout: bool) -> Arm {
        Arm {
            name: name.to_string(),
            share,
            template: (!holdout).then(|| format!("{name}-template")),
            holdout,
            rule_ref: format!("experiment:test/{name}").into(),
        }
    }

    fn experiment(salt: &str, arms: Vec<Arm>) -> Experiment {
        Experiment::consecutive("test", salt, arms)
    }

    fn four_arms(salt: &str) -> Experiment {
        experiment(
            salt,
            vec![
                arm("champion", 7_000, false),
                arm("challenger-a", 2_000, false),
                arm("challenger-b", 500, false),
                arm("holdout", 500, true),
            ],
        )
    }

    fn ids(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("acct-{i:07}"))
    }

    /// Realised share of each arm (in the experiment's order) as a fraction of `n` synthetic ids.
    fn realised_shares(exp: &Experiment, n: usize) -> Vec<f64> {
        let mut counts = vec![0usize; exp.arms.len()];
        for id in ids(n) {
            let chosen = exp.assign(&id);
            let index = exp
                .arms
                .iter()
                .position(|a| std::ptr::eq(a, chosen))
                .unwrap();
            counts[index] += 1;
        }
        counts.iter().map(|&c| c as f64 / n as f64).collect()
    }

    fn assert_converges(exp: &Experiment) {
        assert!(exp.validate().is_empty(), "{:?}", exp.validate());
        let shares = realised_shares(exp, 100_000);
        for (arm, realised) in exp.arms.iter().zip(&shares) {
            let declared = f64::from(arm.share) / f64::from(FULL_SHARE);
            assert!(
                (realised - declared).abs() < 0.01,
                "arm {} declared {declared}, realised {realised}",
                arm.name
            );
        }
    }

    #[test]
    fn pinned_bucket_vectors() {
        // Assignment must be sticky across versions: an account's arm is part of the meaning of
        // a policy file. If any of these values change, every running experiment silently
        // re-shuffles its population. Never update these numbers to make the test pass.
        assert_eq!(bucket("2026Q4-early-card", "card-arrears-7dpd"), PIN_1);
        assert_eq!(bucket("2026Q4-early-card", "acct-0000001"), PIN_2);
        assert_eq!(bucket("utility-severance-2027", "SA-884213"), PIN_3);
        // Empty salt and id still hash the separator byte.
        assert_eq!(bucket("", ""), PIN_4);
    }

    const PIN_1: u32 = 8164;
    const PIN_2: u32 = 9246;
    const PIN_3: u32 = 3810;
    const PIN_4: u32 = 196;

    #[test]
    fn bucket_matches_one_shot_xxh3_over_documented_bytes() {
        // Published XXH3-64 (seed 0) vector for empty input: guards against the dependency changing.
        assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2D06_8005_38D3_94C2);
        let h = xxhash_rust::xxh3::xxh3_64(b"salt\x1Facct-1");
        let expected = ((h as u128 * 10_000) >> 64) as u32;
        assert_eq!(bucket("salt", "acct-1"), expected);
        assert_ne!(bucket("ab", "c"), bucket("a", "bc"));
    }

    #[test]
    fn assign_takes_consecutive_ranges_in_declaration_order() {
        let exp = four_arms("2026Q4-early-card");
        for id in ids(2_000) {
            let b = bucket(&exp.salt, &id);
            let expected = match b {
                0..7_000 => "champion",
                7_000..9_000 => "challenger-a",
                9_000..9_500 => "challenger-b",
                _ => "holdout",
            };
            assert_eq!(exp.assign(&id).name, expected, "id {id} bucket {b}");
        }
    }

    #[test]
    fn range_boundaries_belong_to_the_next_arm() {
        let exp = four_arms("2026Q4-early-card");
        let cases = [
            (0, "champion"),
            (6_999, "champion"),
            (7_000, "challenger-a"),
            (8_999, "challenger-a"),
            (9_000, "challenger-b"),
            (9_499, "challenger-b"),
            (9_500, "holdout"),
            (9_999, "holdout"),
        ];
        for (target, expected) in cases {
            let id = (0..)
                .map(|i| format!("acct-{i:07}"))
                .find(|id| bucket(&exp.salt, id) == target)
                .unwrap();
            assert_eq!(exp.assign(&id).name, expected, "bucket {target}");
        }
    }

    #[test]
    fn last_arm_takes_the_rest_when_shares_fall_short() {
        let exp = experiment("s", vec![arm("a", 0, false), arm("b", 0, false)]);
        for id in ids(200) {
            assert_eq!(exp.assign(&id).name, "b");
        }
    }

    #[test]
    #[should_panic(expected = "no arms")]
    fn assign_without_arms_panics() {
        experiment("s", vec![]).assign("acct-1");
    }

    #[test]
    fn converges_to_declared_shares_70_20_5_5() {
        assert_converges(&four_arms("2026Q4-early-card"));
    }

    #[test]
    fn converges_to_declared_shares_95_5() {
        assert_converges(&experiment(
            "2026Q4-early-card",
            vec![arm("champion", 9_500, false), arm("challenger", 500, false)],
        ));
    }

    #[test]
    fn different_salts_give_independent_assignments() {
        let halves = |salt: &str| {
            experiment(
                salt,
                vec![arm("first", 5_000, false), arm("second", 5_000, false)],
            )
        };
        let (x, y) = (halves("2026Q4-early-card"), halves("2027Q1-early-card"));
        let n = 100_000;
        let both = ids(n)
            .filter(|id| x.assign(id).name == "first" && y.assign(id).name == "first")
            .count();
        let fraction = both as f64 / n as f64;
        assert!(
            (fraction - 0.25).abs() < 0.01,
            "fraction in both: {fraction}"
        );
    }

    /// 2 to 5 arms whose shares (basis points, each at least 1%) total 100%.
    fn shares() -> impl Strategy<Value = Vec<u32>> {
        prop::collection::vec(100u32..5_000, 1..5).prop_map(|mut head| {
            let mut total: u32 = head.iter().sum();
            while total > FULL_SHARE - 100 {
                let last = head.pop().unwrap();
                total -= last;
            }
            head.push(FULL_SHARE - total);
            head
        })
    }

    fn with_shares(salt: &str, shares: &[u32]) -> Experiment {
        let arms = shares
            .iter()
            .enumerate()
            .map(|(i, &s)| arm(&format!("arm-{i}"), s, false))
            .collect();
        experiment(salt, arms)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

        /// Over 100,000 ids every arm's share is within one point of what it declares.
        #[test]
        fn realised_shares_match_declared_shares(shares in shares(), salt in "[a-z0-9]{0,12}") {
            assert_converges(&with_shares(&salt, &shares));
        }

        /// Arms take consecutive ranges in declaration order, so changing one arm's share
        /// (the last arm absorbing the difference) moves no account of an arm before it,
        /// and an arm that grows keeps every account it had.
        #[test]
        fn changing_a_share_moves_no_account_of_an_earlier_arm(
            shares in shares().prop_filter("two arms or more", |s| s.len() >= 2),
            pick in any::<prop::sample::Index>(),
            delta in -5_000i64..5_000,
        ) {
            let changed = pick.index(shares.len() - 1);
            let mut after = shares.clone();
            let last = after.len() - 1;
            let new_share = (i64::from(after[changed]) + delta)
                .clamp(1, i64::from(after[changed] + after[last]) - 1);
            after[last] = after[changed] + after[last] - new_share as u32;
            after[changed] = new_share as u32;
            let (x, y) = (with_shares("salt", &shares), with_shares("salt", &after));
            for id in ids(20_000) {
                let (before, now) = (&x.assign(&id).name, &y.assign(&id).name);
                let arm_index = x.arms.iter().position(|a| &a.name == before).unwrap();
                if arm_index < changed || (arm_index == changed && after[changed] >= shares[changed]) {
                    prop_assert_eq!(before, now, "id {}", id);
                }
            }
        }
    }

    fn validate_shares(shares: &[u32]) -> Vec<String> {
        let arms = shares
            .iter()
            .enumerate()
            .map(|(i, &s)| arm(&format!("arm-{i}"), s, false))
            .collect();
        experiment("s", arms).validate()
    }

    #[test]
    fn validate_accepts_a_sound_experiment() {
        assert_eq!(four_arms("s").validate(), Vec::<String>::new());
    }

    #[test]
    fn validate_reports_share_total() {
        assert_eq!(
            validate_shares(&[9_000, 500]),
            vec!["arm shares total `95%`, not `100%`"]
        );
        assert_eq!(
            validate_shares(&[9_000, 1_250]),
            vec!["arm shares total `102.5%`, not `100%`"]
        );
        assert_eq!(
            validate_shares(&[9_000, 999]),
            vec!["arm shares total `99.99%`, not `100%`"]
        );
        // No overflow with absurd shares.
        assert_eq!(
            validate_shares(&[u32::MAX, u32::MAX]),
            vec!["arm shares total `85899345.9%`, not `100%`"]
        );
    }

    #[test]
    fn validate_reports_no_arms() {
        assert_eq!(
            experiment("s", vec![]).validate(),
            vec!["experiment has no arms"]
        );
    }

    #[test]
    fn validate_reports_duplicate_names_once() {
        let exp = experiment(
            "s",
            vec![
                arm("champion", 5_000, false),
                arm("champion", 2_500, false),
                arm("champion", 2_500, false),
            ],
        );
        assert_eq!(exp.validate(), vec!["duplicate arm name `champion`"]);
    }

    #[test]
    fn validate_reports_more_than_one_holdout() {
        let exp = experiment(
            "s",
            vec![
                arm("champion", 8_000, false),
                arm("control-1", 1_000, true),
                arm("control-2", 1_000, true),
            ],
        );
        assert_eq!(
            exp.validate(),
            vec!["more than one hold-out arm: `control-1`, `control-2`"]
        );
    }

    #[test]
    fn validate_reports_zero_share() {
        assert_eq!(
            validate_shares(&[10_000, 0]),
            vec!["arm `arm-1` has a zero share"]
        );
    }

    fn bp(s: &str) -> Option<u32> {
        percent_to_basis_points(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn percent_to_basis_points_edges() {
        assert_eq!(bp("0"), Some(0));
        assert_eq!(bp("100"), Some(10_000));
        assert_eq!(bp("100.00"), Some(10_000));
        assert_eq!(bp("12.5"), Some(1_250));
        assert_eq!(bp("0.01"), Some(1));
        assert_eq!(bp("12.340"), Some(1_234));
        assert_eq!(bp("12.345"), None);
        assert_eq!(bp("0.001"), None);
        assert_eq!(bp("-1"), None);
        assert_eq!(bp("-0.01"), None);
        assert_eq!(bp("101"), None);
        assert_eq!(bp("100.01"), None);
        assert_eq!(percent_to_basis_points(Decimal::MAX), None);
    }
}
