//! One TOML rule file (next to the shipped schema) through load, check, policy build and evaluation.
#![no_main]

mod rules;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rules::run(data, "fuzz.toml"));
