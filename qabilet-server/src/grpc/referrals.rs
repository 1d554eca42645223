//! `Referrals`: the referral planner (conversion only; the operations are the application
//! layer's).

use std::sync::Arc;

use qabilet_core::referral::{Figures, Rule};
use tonic::{Request, Response, Status};

use super::authenticate::caller;
use super::pb::referrals_server::Referrals;
use super::pb::{PlanReferralRequest, ReferralFigures, ReferralPlan, ReferralRule};
use crate::app::{App, AppError, PlanRequest};

/// The service.
#[derive(Clone)]
pub struct ReferralsService {
    app: Arc<App>,
}

impl ReferralsService {
    /// The planner of `app`.
    pub fn new(app: Arc<App>) -> Self {
        ReferralsService { app }
    }
}

fn figures(f: &Figures) -> ReferralFigures {
    ReferralFigures {
        referred_rate: f.referred_rate,
        sensitivity: f.sensitivity,
        ppv: f.ppv,
    }
}

#[tonic::async_trait]
impl Referrals for ReferralsService {
    async fn plan_referral(
        &self,
        request: Request<PlanReferralRequest>,
    ) -> Result<Response<ReferralPlan>, Status> {
        let caller = caller(&request)?;
        let r = request.into_inner();
        let rule = match ReferralRule::try_from(r.rule) {
            Ok(ReferralRule::Unspecified | ReferralRule::Observed) => Rule::Observed,
            Ok(ReferralRule::Upper90) => Rule::Upper90,
            Ok(ReferralRule::Upper95) => Rule::Upper95,
            Err(_) => return Err(AppError::invalid("rule", format!("{}: not a rule", r.rule)).into()),
        };
        let request = PlanRequest {
            rule,
            reliability: r.reliability,
            cut: r.cut,
            above: if r.above == 0.0 { 130.0 } else { r.above },
            stage2_reliability: r.stage2_reliability,
            stage2_cut: r.stage2_cut,
        };
        let (plan, f) = self.app.plan_referral(&caller, request).await?;
        Ok(Response::new(ReferralPlan {
            above_rate: f.above_rate,
            stage1: Some(figures(&f.stage1)),
            stage2: f.stage2.as_ref().map(figures),
            overall: f.overall.as_ref().map(figures),
            stage1_threshold: plan.stage1.threshold(),
            stage2_threshold: plan.stage2.map(|s| s.threshold()),
        }))
    }
}
