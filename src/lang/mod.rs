//! The rule language, from cell text to a plan: `syntax` (parse), `check`
//! (resolve and type, → `ir`), `compile` (→ `Plan`), `semantics` (what values
//! and expressions mean, shared with the evaluator) and `analysis` (lint's
//! table analysis over the checked program). It reads documents that `model`
//! loaded and the `data::schema`; it must not run tables for an account (that
//! is `eval`) or print, and only `analysis` knows the collections policy
//! (which tables and fields it uses, so lint does not call them unused; it sits
//! above `policy` in the layer order). The only files it touches are lint's
//! counterexample accounts (`analysis::counterexample`).

pub mod analysis;
pub mod check;
pub mod compile;
pub mod ir;
pub mod semantics;
pub mod syntax;
