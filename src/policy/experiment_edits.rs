//! What `arrears lint --base OLD` and `--population N` say about experiments:
//! an edit that moves accounts between arms that exist before and after it
//! (bucket owners compared, old against new), a changed salt, and an arm too
//! small to measure anything on the population given. It must not lay out
//! buckets (`experiment::layout` does) or assign an account.

use std::collections::BTreeMap;

use super::experiment::{format_percent, FULL_SHARE};
use super::Policy;
use crate::diagnostic::Diagnostic;
use crate::model::RuleDocs;

/// Accounts an arm needs to show a 4-point difference in a 50% rate with 80%
/// power at 5% two-sided significance: 16 p(1-p) / δ² = 16 · 0.25 / 0.0016.
pub const MIN_ARM_ACCOUNTS: u64 = 2_500;

/// Where experiment `name` is written, for a diagnostic.
fn at<'d>(
    docs: &'d RuleDocs,
    name: &str,
) -> Option<&'d (
    std::sync::Arc<crate::source::SourceFile>,
    crate::model::doc::ExperimentDoc,
)> {
    docs.experiments
        .iter()
        .find(|(_, d)| d.experiment.value == name)
}

/// Per experiment in both policies: accounts moved between arms that exist in
/// both (a warning per pair, naming the arms and the share moved), or a new salt.
pub fn experiment_edits(docs: &RuleDocs, old: &Policy, new: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for ce in &new.experiments {
        let now = &ce.experiment;
        let Some(before) = old
            .experiments
            .iter()
            .map(|c| &c.experiment)
            .find(|e| e.name == now.name)
        else {
            continue;
        };
        let Some((file, doc)) = at(docs, &now.name) else {
            continue;
        };
        if before.salt != now.salt {
            out.push(
                Diagnostic::warning(
                    "experiment-reassigned",
                    file,
                    doc.salt.span,
                    format!(
                        "the salt of experiment `{}` changed from `{}`: every account is drawn again",
                        now.name, before.salt
                    ),
                )
                .with_help("keep the salt of a running experiment; a new salt starts a new experiment"),
            );
            continue;
        }
        let survives = |name: &str| {
            before.arms.iter().any(|a| a.name == name) && now.arms.iter().any(|a| a.name == name)
        };
        let mut moved: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for (&o, &n) in before.owner.iter().zip(&now.owner) {
            let (from, to) = (
                before.arms[usize::from(o)].name.as_str(),
                now.arms[usize::from(n)].name.as_str(),
            );
            if from != to && survives(from) && survives(to) {
                *moved.entry((from, to)).or_default() += 1;
            }
        }
        for ((from, to), buckets) in moved {
            out.push(
                Diagnostic::warning(
                    "experiment-reassigned",
                    file,
                    doc.experiment.span,
                    format!(
                        "this edit moves {} of experiment `{}`'s accounts ({buckets} buckets) from arm `{from}` to arm `{to}`, which both exist before and after it",
                        format_percent(buckets),
                        now.name
                    ),
                )
                .with_help("give a new arm its share with `take_from`, and a removed arm's buckets to one arm, so the other arms keep their accounts"),
            );
        }
    }
    out
}

/// Arms expected to get fewer than [`MIN_ARM_ACCOUNTS`] of `population`
/// accounts entering their experiment.
pub fn small_arms(docs: &RuleDocs, policy: &Policy, population: u64) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for ce in &policy.experiments {
        let e = &ce.experiment;
        let Some((file, doc)) = at(docs, &e.name) else {
            continue;
        };
        for (arm, arm_doc) in e.arms.iter().zip(&doc.arms) {
            let expected = u128::from(population) * u128::from(arm.share) / u128::from(FULL_SHARE);
            if expected < u128::from(MIN_ARM_ACCOUNTS) {
                out.push(
                    Diagnostic::warning(
                        "experiment-small-arm",
                        file,
                        arm_doc.value.name.span,
                        format!(
                            "arm `{}` of experiment `{}` expects {expected} of {population} accounts ({}), fewer than the {MIN_ARM_ACCOUNTS} an arm needs to measure anything",
                            arm.name,
                            e.name,
                            format_percent(u64::from(arm.share))
                        ),
                    )
                    .with_help(format!(
                        "{MIN_ARM_ACCOUNTS} accounts show a 4-point difference in a 50% rate (80% power, 5% two-sided); give the arm more buckets or run it longer"
                    )),
                );
            }
        }
    }
    out
}
