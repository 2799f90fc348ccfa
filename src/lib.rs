//! arrears: a rule engine for debt-collections policy.
//!
//! Pipeline (one direction only): load → parse → check → compile → evaluate.
//! See ARCHITECTURE.md for the map.

pub mod accounts;
pub mod analysis;
pub mod batch;
pub mod check;
pub mod cli;
pub mod compile;
pub mod diagnostic;
pub mod eval;
pub mod expect;
pub mod generate;
pub mod input;
pub mod ir;
pub mod model;
pub mod policy;
pub mod schema;
pub mod snapshot;
pub mod source;
pub mod syntax;
pub mod testing;
pub mod types;

use std::path::Path;

/// Loads and checks the tables of a rules directory (without compiling the
/// policy; `policy::load` does both).
pub fn load_rules(dir: &Path) -> Result<check::Checked, model::LoadError> {
    let docs = model::load_dir(dir)?;
    Ok(policy::check_tables(&docs))
}
