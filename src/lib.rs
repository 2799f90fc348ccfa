//! arrears: a rule engine for debt-collections policy.
//!
//! Pipeline (one direction only): load → parse → check → compile → evaluate.
//! See ARCHITECTURE.md for the map.

pub mod source;
pub mod syntax;
