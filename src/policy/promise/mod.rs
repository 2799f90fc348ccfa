//! Promise-to-pay evaluation: tolerance, grace, multi-part plans. The terms of a promise
//! (`terms`: tolerance and grace), whether its instalments are kept (`status`: `evaluate`), and
//! the schedule of a payment-plan offer (`schedule`: `split_plan`); this file declares them and
//! the error they share. It must not read the clock or any file.

#[cfg(test)]
mod fixtures;
mod schedule;
mod status;
mod terms;

pub use schedule::{split_amounts, split_plan};
pub use status::{evaluate, Instalment, InstalmentResult, Payment, PlanResult, Status};
pub use terms::{tolerance, PlanTolerance, Terms, ToleranceRule};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PromiseError {
    #[error("date out of range")]
    DateOutOfRange,
    #[error("a promise has no instalments")]
    Empty,
    #[error("number overflow")]
    Overflow,
}
