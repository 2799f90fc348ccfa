//! Experiments whose arms own buckets (`policy::experiment`): adding an arm
//! with `take_from` moves only its own share, and only from the arm named;
//! `lint --base OLD` warns when an edit moves accounts between arms that both
//! survive; `lint --population N` warns about arms too small to measure; the
//! shipped experiment still assigns the documented accounts.

use arrears::policy::experiment::{bucket, layout, Claim, FULL_SHARE};
use proptest::prelude::*;

use crate::common::{arrears_in, copy_dir, root, stdout};

/// 2 to 5 arms with explicit consecutive bucket ranges (each at least 1%).
fn arms() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(100u32..5_000, 1..5).prop_map(|mut head| {
        let mut total: u32 = head.iter().sum();
        while total > FULL_SHARE - 100 {
            total -= head.pop().unwrap();
        }
        head.push(FULL_SHARE - total);
        head
    })
}

fn explicit(shares: &[u32]) -> Vec<Claim> {
    let mut start = 0;
    shares
        .iter()
        .map(|s| {
            let claim = Claim::Buckets(vec![(start, start + s - 1)]);
            start += s;
            claim
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Adding an arm that takes its share from one named arm moves at most
    /// that share of accounts, all of them from the named arm into the new
    /// one, and none between the arms that existed before.
    #[test]
    fn adding_an_arm_moves_only_its_own_share(
        shares in arms(),
        donor in any::<prop::sample::Index>(),
        fraction in 1u32..100,
        salt in "[a-z0-9]{1,12}",
    ) {
        let names: Vec<String> = (0..shares.len()).map(|i| format!("arm-{i}")).collect();
        let donor = donor.index(shares.len());
        let take = (shares[donor] * fraction / 100).clamp(1, shares[donor] - 1);
        let before_claims = explicit(&shares);
        let mut after_claims = before_claims.clone();
        after_claims.push(Claim::TakeFrom(take, names[donor].clone()));
        let mut after_names: Vec<&str> = names.iter().map(String::as_str).collect();
        let before = layout(&after_names, &before_claims).unwrap();
        after_names.push("new");
        let after = layout(&after_names, &after_claims).unwrap();
        // Bucket by bucket: a changed owner is the donor giving to the new arm.
        let mut moved = 0;
        for (b, a) in before.iter().zip(&after) {
            if b != a {
                prop_assert_eq!(usize::from(*b), donor);
                prop_assert_eq!(usize::from(*a), shares.len());
                moved += 1;
            }
        }
        prop_assert_eq!(moved, take);
        // Account by account, the same: at most the new arm's share moves.
        let n = 20_000u32;
        let mut accounts_moved = 0u32;
        for i in 0..n {
            let id = format!("acct-{i:07}");
            let k = bucket(&salt, &id) as usize;
            if before[k] != after[k] {
                prop_assert_eq!(usize::from(after[k]), shares.len(), "id {}", id);
                accounts_moved += 1;
            }
        }
        // Within 1.5 points of its share over 20,000 accounts.
        prop_assert!(f64::from(accounts_moved) / f64::from(n) <= f64::from(take) / f64::from(FULL_SHARE) + 0.015);
    }
}

#[test]
fn removing_an_arm_without_giving_its_buckets_away_is_an_error() {
    let err = layout(
        &["champion", "holdout"],
        &[
            Claim::Buckets(vec![(0, 7999)]),
            Claim::Buckets(vec![(9500, 9999)]),
        ],
    )
    .unwrap_err();
    let messages: Vec<&str> = err.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        vec!["buckets 8000-9499 belong to no arm; add them to an arm's `buckets` (a removed arm's buckets go back to an arm named here)"]
    );
    assert_eq!(err[0].arm, None);
    let err = layout(
        &["a", "b"],
        &[
            Claim::Buckets(vec![(0, 5000)]),
            Claim::Buckets(vec![(5000, 9999)]),
        ],
    )
    .unwrap_err();
    assert_eq!(err[0].message, "bucket 5000 is claimed by `a` and `b`");
    assert_eq!(err[0].arm, Some(1));
}

/// A wrong claim is reported at the arm's `buckets` or `take_from` (not at the
/// experiment's name), a clash with every bucket of its run, a misspelt arm
/// with the nearest name.
#[test]
fn a_wrong_claim_is_an_error_at_the_claim() {
    let head = "  - { name: champion, buckets: 0-7999 }\n  - { name: soft_letter, buckets: BUCKETS, template: card_early_soft }\n  - { name: holdout, buckets: 9500-9999, holdout: true }\n";
    let cases = [
        (
            head.replace("BUCKETS", "7900-9499"),
            "card_early_letters.yaml:15:35: error[experiment]: buckets 7900-7999 are claimed by `champion` and `soft_letter`",
            "every bucket 0 to 9999 belongs to exactly one arm",
        ),
        (
            head.replace("BUCKETS", "7999-9499"),
            "card_early_letters.yaml:15:35: error[experiment]: bucket 7999 is claimed by `champion` and `soft_letter`",
            "every bucket 0 to 9999 belongs to exactly one arm",
        ),
        (
            head.replace("BUCKETS", "8000-9499") + "  - { name: sms, share: 10%, take_from: champoin }\n",
            "card_early_letters.yaml:17:41: error[experiment]: arm `sms` takes from `champoin`, which is not an arm",
            "did you mean `champion`?",
        ),
        (
            head.replace("BUCKETS", "8000-9499") + "  - { name: sms, share: 90%, take_from: holdout }\n",
            "card_early_letters.yaml:17:41: error[experiment]: arm `sms` takes 9000 buckets from `holdout`, which has 500",
            "an arm gives away fewer buckets than it holds",
        ),
    ];
    for (arms, at, help) in cases {
        let dir = with_arms(&arms);
        let out = lint(dir.path(), &[]);
        assert!(out.contains(at), "{arms}: {out}");
        assert!(out.contains(&format!("help: {help}")), "{arms}: {out}");
        assert_eq!(out.matches("error[").count(), 1, "{arms}: {out}");
    }
}

/// The shipped rules with `card_early_letters.yaml`'s arms replaced.
fn with_arms(arms: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules"), &dir.path().join("rules"));
    let path = dir.path().join("rules/experiments/card_early_letters.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let head = &text[..text.find("arms:\n").unwrap()];
    std::fs::write(&path, format!("{head}arms:\n{arms}")).unwrap();
    dir
}

fn lint(dir: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["lint", "rules"];
    args.extend_from_slice(extra);
    let out = arrears_in(dir, &args);
    // Only the experiment findings: the shipped rules' infos are not the point.
    stdout(&out)
        .split("\n\n")
        .filter(|d| d.contains("[experiment"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[test]
fn lint_base_warns_when_an_edit_moves_accounts_between_surviving_arms() {
    let base = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules"), &base.path().join("rules"));
    let base_rules = base.path().join("rules");
    let base_arg = base_rules.to_str().unwrap();
    // The old way: a 10% arm inserted by shares shifts soft_letter and holdout.
    let shifted = with_arms(
        "  - { name: champion, buckets: 0-6999 }\n  - { name: sms, buckets: 7000-7999 }\n  - { name: soft_letter, buckets: 8000-9499, template: card_early_soft }\n  - { name: holdout, buckets: 9500-9999, holdout: true }\n",
    );
    assert_eq!(lint(shifted.path(), &["--base", base_arg]), "");
    let reshuffled = with_arms(
        "  - { name: champion, buckets: 0-6999 }\n  - { name: sms, buckets: 7000-7999 }\n  - { name: soft_letter, buckets: 8000-9000, template: card_early_soft }\n  - { name: holdout, buckets: 9001-9999, holdout: true }\n",
    );
    assert_snapshot!("reassigned", lint(reshuffled.path(), &["--base", base_arg]));
    // take_from: the new arm takes champion's highest buckets; nothing else moves.
    let taken = with_arms(
        "  - { name: champion, buckets: 0-7999 }\n  - { name: soft_letter, buckets: 8000-9499, template: card_early_soft }\n  - { name: holdout, buckets: 9500-9999, holdout: true }\n  - { name: sms, share: 10%, take_from: champion }\n",
    );
    assert_eq!(lint(taken.path(), &["--base", base_arg]), "");
}

/// `lint --base` takes a git revision as `diff --base` does: the rules
/// directory at that revision, in the repository that holds it.
#[test]
fn lint_base_takes_a_git_revision_of_the_rules_repository() {
    use crate::common::stderr;
    use crate::diff::git;
    let reshuffled = with_arms(
        "  - { name: champion, buckets: 0-6999 }\n  - { name: sms, buckets: 7000-7999 }\n  - { name: soft_letter, buckets: 8000-9000, template: card_early_soft }\n  - { name: holdout, buckets: 9001-9999, holdout: true }\n",
    );
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules"), &repo.path().join("rules"));
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "shipped"]);
    let experiment = "rules/experiments/card_early_letters.yaml";
    std::fs::copy(
        reshuffled.path().join(experiment),
        repo.path().join(experiment),
    )
    .unwrap();
    // The uncommitted edit against HEAD: what the same edit against a copy of the
    // shipped rules gives, and not nothing.
    let by_revision = lint(repo.path(), &["--base", "HEAD"]);
    let base = root().join("rules");
    let by_dir = lint(reshuffled.path(), &["--base", base.to_str().unwrap()]);
    assert!(
        by_revision.contains("from arm `soft_letter` to arm `holdout`"),
        "{by_revision}"
    );
    assert_eq!(by_revision, by_dir);
    // From inside the rules directory, a revision names the same directory.
    let inside = arrears_in(&repo.path().join("rules"), &["lint", ".", "--base", "main"]);
    assert!(
        stdout(&inside).contains("from arm `soft_letter` to arm `holdout`"),
        "{}",
        stdout(&inside)
    );
    // Committed, the edit is the base: nothing moves.
    git(repo.path(), &["commit", "-qam", "reshuffle"]);
    assert_eq!(lint(repo.path(), &["--base", "HEAD"]), "");
    assert_ne!(lint(repo.path(), &["--base", "HEAD~1"]), "");
    // Neither a directory nor a revision: one line, exit 2.
    let out = arrears_in(repo.path(), &["lint", "rules", "--base", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: --base `no-such-branch` is neither a directory nor a git revision of the repository holding `rules`"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = arrears_in(repo.path(), &["lint", "rules", "--base", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).trim_end().ends_with(": it is empty"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn lint_warns_about_arms_too_small_and_shares_laid_out_by_order() {
    let out = arrears_in(root(), &["lint", "rules", "--population", "20000"]);
    assert_snapshot!("small_arms", lint_out(&stdout(&out)));
    // Shares alone still work, with the buckets to write in the help.
    let legacy = with_arms(
        "  - { name: champion, share: 80% }\n  - { name: soft_letter, share: 15%, template: card_early_soft }\n  - { name: holdout, share: 5%, holdout: true }\n",
    );
    assert_snapshot!("layout_migration", lint(legacy.path(), &[]));
    let wrong = with_arms(
        "  - { name: champion, buckets: 0-7999, share: 75% }\n  - { name: soft_letter, buckets: 8000-9399, template: card_early_soft }\n  - { name: holdout, buckets: 9500-9999, holdout: true }\n",
    );
    assert_snapshot!("bad_buckets", lint(wrong.path(), &[]));
}

fn lint_out(text: &str) -> String {
    text.split("\n\n")
        .filter(|d| d.contains("[experiment"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The shipped experiment assigns as its file documents: every account to the
/// arm owning its bucket (champion 0-7999, soft_letter 8000-9499, holdout 9500-9999).
#[test]
fn the_shipped_experiment_assigns_accounts_to_the_buckets_its_file_names() {
    let loaded = arrears::policy::load(&root().join("rules")).unwrap();
    let policy = loaded.policy.unwrap();
    let exp = &policy
        .experiments
        .iter()
        .find(|c| c.experiment.name == "card_early_letters")
        .unwrap()
        .experiment;
    for i in 0..5_000 {
        let id = format!("acct-{i:07}");
        let expected = match bucket(&exp.salt, &id) {
            0..=7999 => "champion",
            8000..=9499 => "soft_letter",
            _ => "holdout",
        };
        assert_eq!(exp.assign(&id).name, expected, "{id}");
    }
}

/// `lint --base` naming rules with no policy that builds (a tables-only
/// directory, a broken experiment) cannot compare anything: exit 2, one line,
/// never "no problems".
#[test]
fn lint_base_without_a_policy_is_bad_input() {
    let broken = with_arms(
        "  - { name: champion, buckets: 0-7999 }\n  - { name: soft_letter, buckets: 8000-9499, template: card_early_soft }\n  - { name: holdout, buckets: 9500-9999, holdout: true }\n  - { name: sms, share: 10%, take_from: champoin }\n",
    );
    for base in [
        broken.path().join("rules"),
        root().join("samples/effective/rules"),
    ] {
        let out = arrears_in(root(), &["lint", "rules", "--base", base.to_str().unwrap()]);
        let stderr = crate::common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("has no policy that builds"), "{stderr}");
    }
}
