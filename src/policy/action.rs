//! Case actions: what the pipeline tells the case-management system, the
//! dialler and the letter vendor to do. Each carries the rules that caused it.

use std::fmt;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::Serialize;

use super::promise::Status;

/// A rule that caused an action: `table:row-id`, `table:default`,
/// `template:name/event-id` or `experiment:name/arm`.
pub type RuleRef = String;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Action {
    #[serde(flatten)]
    pub kind: ActionKind,
    pub rules: Vec<RuleRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instalment {
    pub due: NaiveDate,
    pub amount: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionKind {
    OpenCase {
        category: String,
        reason: String,
    },
    CloseCase {
        reason: String,
    },
    CancelPendingEvents,
    RemoveSa {
        sa: String,
        reason: String,
    },
    CreateTodo {
        reason: String,
    },
    AssignClass {
        class: String,
        template: String,
    },
    AssignArm {
        experiment: String,
        arm: String,
        template: Option<String>,
        holdout: bool,
    },
    ScheduleEvent {
        event: String,
        event_type: String,
        date: NaiveDate,
        #[serde(skip_serializing_if = "IndexMap::is_empty")]
        params: IndexMap<String, String>,
    },
    PromiseOutcome {
        promise: String,
        status: Status,
        paid: String,
        required: String,
        deadline: NaiveDate,
        arrears_paid_in_full: bool,
    },
    FollowUp {
        promise: String,
        follow_up: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    ResumeTreatment {
        template: Option<String>,
    },
    OfferPaymentPlan {
        total: String,
        instalments: Vec<Instalment>,
    },
    NominateSeverance {
        sas: Vec<String>,
    },
    ExcludeSeverance {
        sa: String,
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<NaiveDate>,
    },
    /// Contact is suspended: the contact events this run would have scheduled were withheld.
    HoldContact {
        reason: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        withheld: Vec<String>,
    },
    /// A flag for the case from one of the policy's flag tables.
    Flag {
        table: String,
        values: serde_json::Map<String, serde_json::Value>,
    },
}

impl ActionKind {
    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::OpenCase { .. } => "open_case",
            ActionKind::CloseCase { .. } => "close_case",
            ActionKind::CancelPendingEvents => "cancel_pending_events",
            ActionKind::RemoveSa { .. } => "remove_sa",
            ActionKind::CreateTodo { .. } => "create_todo",
            ActionKind::AssignClass { .. } => "assign_class",
            ActionKind::AssignArm { .. } => "assign_arm",
            ActionKind::ScheduleEvent { .. } => "schedule_event",
            ActionKind::PromiseOutcome { .. } => "promise_outcome",
            ActionKind::FollowUp { .. } => "follow_up",
            ActionKind::ResumeTreatment { .. } => "resume_treatment",
            ActionKind::OfferPaymentPlan { .. } => "offer_payment_plan",
            ActionKind::NominateSeverance { .. } => "nominate_severance",
            ActionKind::ExcludeSeverance { .. } => "exclude_severance",
            ActionKind::HoldContact { .. } => "hold_contact",
            ActionKind::Flag { .. } => "flag",
        }
    }
}

/// One line for people: `open_case category=arrears reason="..."`.
impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            ActionKind::OpenCase { category, reason } => {
                write!(f, " category={category} reason={reason:?}")
            }
            ActionKind::CloseCase { reason } | ActionKind::CreateTodo { reason } => {
                write!(f, " reason={reason:?}")
            }
            ActionKind::CancelPendingEvents => Ok(()),
            ActionKind::RemoveSa { sa, reason } => write!(f, " sa={sa} reason={reason:?}"),
            ActionKind::AssignClass { class, template } => {
                write!(f, " class={class} template={template}")
            }
            ActionKind::AssignArm {
                experiment,
                arm,
                template,
                holdout,
            } => {
                write!(f, " experiment={experiment} arm={arm}")?;
                if let Some(t) = template {
                    write!(f, " template={t}")?;
                }
                if *holdout {
                    f.write_str(" holdout")?;
                }
                Ok(())
            }
            ActionKind::ScheduleEvent {
                event,
                event_type,
                date,
                params,
            } => {
                write!(f, " {date} {event_type} event={event}")?;
                for (k, v) in params {
                    write!(f, " {k}={v:?}")?;
                }
                Ok(())
            }
            ActionKind::PromiseOutcome {
                promise,
                status,
                paid,
                required,
                deadline,
                arrears_paid_in_full,
            } => {
                let status = match status {
                    Status::Pending => "pending",
                    Status::Kept => "kept",
                    Status::Broken => "broken",
                };
                write!(f, " promise={promise} status={status} paid={paid} required={required} deadline={deadline}")?;
                if *arrears_paid_in_full {
                    f.write_str(" arrears_paid_in_full")?;
                }
                Ok(())
            }
            ActionKind::FollowUp {
                promise,
                follow_up,
                detail,
            } => {
                write!(f, " promise={promise} follow_up={follow_up}")?;
                if let Some(d) = detail {
                    write!(f, " detail={d:?}")?;
                }
                Ok(())
            }
            ActionKind::ResumeTreatment { template } => match template {
                Some(t) => write!(f, " template={t}"),
                None => Ok(()),
            },
            ActionKind::OfferPaymentPlan { total, instalments } => {
                write!(f, " total={total}")?;
                for i in instalments {
                    write!(f, " {}:{}", i.due, i.amount)?;
                }
                Ok(())
            }
            ActionKind::NominateSeverance { sas } => write!(f, " sas={}", sas.join(",")),
            ActionKind::HoldContact { reason, withheld } => {
                write!(f, " reason={reason:?}")?;
                if !withheld.is_empty() {
                    write!(f, " withheld={}", withheld.join(","))?;
                }
                Ok(())
            }
            ActionKind::Flag { table, values } => {
                write!(f, " table={table}")?;
                for (k, v) in values {
                    match v {
                        serde_json::Value::String(s) => write!(f, " {k}={s}")?,
                        other => write!(f, " {k}={other}")?,
                    }
                }
                Ok(())
            }
            ActionKind::ExcludeSeverance { sa, reason, until } => {
                write!(f, " sa={sa} reason={reason:?}")?;
                if let Some(u) = until {
                    write!(f, " until={u}")?;
                }
                Ok(())
            }
        }
    }
}
