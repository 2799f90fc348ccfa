//! The rule language, from cell text to a plan: `syntax` (parse), `check`
//! (resolve and type, → `ir`), `compile` (→ `Plan`), `semantics` (what values
//! and expressions mean, shared with the evaluator) and `analysis` (lint's
//! table analysis over the checked program). It reads documents that `model`
//! loaded and the `data::schema`; it must not evaluate accounts, know the
//! collections policy, read files or print.

pub mod analysis;
pub mod check;
pub mod compile;
pub mod ir;
pub mod semantics;
pub mod syntax;
