//! Data in and out: the `schema` of accounts, account `snapshot`s decoded by
//! it, `accounts` files for dry-run, the `batch` (extracts in, actions out,
//! and the `mapping` documents that bind a CSV header to the schema) and
//! `generate` (synthetic extracts). New input formats go here. The schema and
//! snapshots sit below the language; accounts files, the batch and generate
//! drive the policy from above it (see the layer order in ARCHITECTURE.md).
//! Nothing here decides anything or prints.

pub mod accounts;
pub mod batch;
pub mod generate;
pub mod schema;
pub mod snapshot;
