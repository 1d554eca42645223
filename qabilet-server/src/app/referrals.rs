//! Referral planning (`qabilet_core::referral`): figures of a rule and cut under the norm
//! population's model. A computation on numbers alone — no child's data — open to every
//! role, like scoring.

use qabilet_core::referral::{Plan, PlanFigures, ReferralError, Rule};

use super::{App, AppError, Caller};
use crate::auth::policy::Action;

/// What a caller asks the planner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanRequest {
    /// When a child passes.
    pub rule: Rule,
    /// Stage 1's reliability.
    pub reliability: f64,
    /// Stage 1's cut.
    pub cut: f64,
    /// "Truly above" this index.
    pub above: f64,
    /// Stage 2's reliability, if a second stage is planned.
    pub stage2_reliability: Option<f64>,
    /// Stage 2's cut, if a second stage is planned.
    pub stage2_cut: Option<f64>,
}

impl App {
    /// The plan and its figures.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field out of range, or the half of a second stage
    /// missing.
    pub async fn plan_referral(
        &self,
        caller: &Caller,
        request: PlanRequest,
    ) -> Result<(Plan, PlanFigures), AppError> {
        let audit = self.audit_failures(caller, "plan_referral", "referrals");
        let result = self
            .authorize(caller, Action::Score, None, "referrals")
            .and_then(|()| {
                let stage2 = match (request.stage2_reliability, request.stage2_cut) {
                    (None, None) => None,
                    (Some(r), Some(c)) => Some((r, c)),
                    (Some(_), None) => {
                        return Err(AppError::invalid(
                            "stage2_cut",
                            "missing: a second stage needs both its reliability and its cut",
                        ));
                    }
                    (None, Some(_)) => {
                        return Err(AppError::invalid(
                            "stage2_reliability",
                            "missing: a second stage needs both its reliability and its cut",
                        ));
                    }
                };
                let plan = Plan::new(
                    request.rule,
                    request.reliability,
                    request.cut,
                    request.above,
                    stage2,
                )
                .map_err(|e| invalid(&e))?;
                Ok((plan, plan.figures()))
            });
        self.finish(audit, result).await
    }
}

fn invalid(e: &ReferralError) -> AppError {
    match e {
        ReferralError::Reliability { field, value } => AppError::invalid(
            field.name(),
            format!("{value}: a reliability must lie strictly between 0 and 1"),
        ),
        ReferralError::Index { field, value } => AppError::invalid(
            field.name(),
            format!("{value}: must lie within the index scale, 40–160"),
        ),
        other => AppError::invalid("scores", other.to_string()),
    }
}
