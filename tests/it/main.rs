//! The integration tests, one binary: each file was its own test binary, each
//! linking the whole crate; as modules of one they link once.

mod common;

/// `insta::assert_snapshot!` under the names the snapshots were written with
/// when each file was its own test binary: `tests/snapshots/<file>__<name>.snap`
/// (insta would otherwise look for `it__<file>__<name>` next to this file).
macro_rules! assert_snapshot {
    ($name:expr, $value:expr $(,)?) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
        }, {
            let module = module_path!().rsplit("::").next().unwrap_or_default();
            insta::assert_snapshot!(format!("{module}__{}", $name), $value);
        })
    };
}

mod analysis;
mod arithmetic;
mod bad_input;
mod batch;
mod batch_csv_output;
mod batch_decisions;
mod batch_extract_faults;
mod browser;
mod calendar;
mod callbacks;
mod case_contract;
mod case_history;
mod ci_output;
mod cli;
mod cli_consistency;
mod cli_errors;
mod combinations;
mod control_chars;
mod determinism;
mod diff;
mod doc_site;
mod doc_site_drift;
mod docs;
mod echoed_cells;
mod editor_schemas;
mod effective;
mod experiments;
mod explain;
mod fmt;
mod formats;
mod fuzz_regressions;
mod grammar;
mod guard_columns;
mod guardrails;
mod hit_policies;
mod layers;
mod limits;
mod lint;
mod mistakes;
mod money;
mod needed_tables;
mod open_cases;
mod outputs;
mod policy_contracts;
mod roundtrip;
mod scenarios;
mod simulate;
mod template_dates;
mod test_command;
mod typed_eval;
mod unknown_fields;
