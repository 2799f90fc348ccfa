//! Dated callbacks (`account.dispositions[].callback_date`, the `callback` policy area): an
//! account is refused when a callback date sits on a disposition that is not a call-back or
//! comes before the disposition's own date, naming the account and the disposition.

use crate::common::{arrears, stderr, stdout};

const ACCOUNTS: &str = "tests/fixtures/callbacks/accounts.json";

#[test]
fn a_misplaced_callback_date_is_refused_naming_the_disposition() {
    let o = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        "2026-11-22",
        ACCOUNTS,
    ]);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("account callback-dated\n    open_case"),
        "{text}"
    );
    assert!(
        text.contains(
            "account callback-on-a-dispute\n  error: `account.dispositions[0]`: callback_date \
             2026-11-24 on a disposition whose reason is `dispute`: only a `call_back` \
             disposition has one"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "account callback-before-its-disposition\n  error: `account.dispositions[1]`: \
             callback_date 2026-11-16 is before the disposition's own date 2026-11-17"
        ),
        "{text}"
    );
    assert!(text.contains("1 evaluated, 2 failed"), "{text}");
}
