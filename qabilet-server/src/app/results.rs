//! A session's normed results, computed from its response log with the norm set it is pinned
//! to (an adaptive subtest by its raw-score equivalent, with θ̂ and SE). A researcher receives
//! them de-identified: no birth date, the test date as year and month, the age in whole
//! months.

use std::sync::Arc;

use qabilet_core::administration::SessionError;
use qabilet_core::profile::ScoredProfile;
use qabilet_core::{NormSet, ScoringOptions};

use qabilet_core::guidance::ReferralOutcome;

use super::{App, AppError, Caller};
use crate::auth::policy::Action;
use crate::store::{Child, Session, SessionState};

/// A session's results.
#[derive(Debug, Clone)]
pub struct Results {
    /// The session.
    pub session: Session,
    /// The norm set they were computed with.
    pub norms: Arc<NormSet>,
    /// The scored profile.
    pub profile: ScoredProfile,
    /// Whether it must be shown de-identified (a researcher's call): no birth date, the test
    /// date as year and month, the age in whole months. Transports apply it where they
    /// write dates ([`crate::grpc::convert::deidentified_profile`]).
    pub deidentified: bool,
    /// The stage-2 referral decision of the session's consultation report.
    pub referral: Referral,
}

/// The referral decision shown with the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Referral {
    /// The report's decision (a finished session).
    Decided(ReferralOutcome),
    /// The session is not finished: no report, no decision yet.
    NotFinished,
    /// Not for this caller: its role may read results but not reports (a researcher), or
    /// the server has no guidance tables.
    NotShown,
}

impl App {
    /// The results of session `name`.
    ///
    /// # Errors
    /// `FAILED_PRECONDITION` while nothing is recorded or when the session's norms are gone;
    /// `INVALID_ARGUMENT` for a malformed name; `NOT_FOUND`; `PERMISSION_DENIED`.
    pub async fn results(&self, caller: &Caller, name: &str) -> Result<Results, AppError> {
        let mut audit = self.audit(caller, "get_results", name);
        let result = async {
            let (session, child) = self
                .session_for(caller, name, "session", Action::ReadResults, &mut audit)
                .await?;
            let mut results = self.compute_results(&session, &child, name).await?;
            results.deidentified = App::deidentified(caller);
            results.referral = if session.state != SessionState::Finished {
                Referral::NotFinished
            } else if self
                .authorize_session(caller, Action::ReadReport, &session, &child, name)
                .is_err()
                || self.guidance().loaded().is_err()
            {
                Referral::NotShown
            } else {
                let report = self.consultation(results.profile.clone(), &results.norms, &child, None)?;
                Referral::Decided(report.referral.outcome)
            };
            Ok(results)
        }
        .await;
        self.finish(audit, result).await
    }

    /// The results of `session` as the owner sees them (no authorization, no audit: the
    /// caller has done both).
    pub(crate) async fn compute_results(
        &self,
        session: &Session,
        child: &Child,
        name: &str,
    ) -> Result<Results, AppError> {
        let norms = self.pinned_norms(session)?;
        let log = self.store.responses(&session.id).await?;
        let administration = super::replay::session(&norms, session, child, &log)?;
        let profile = administration
            .scored_profile(name, ScoringOptions::default())
            .map_err(|e| match e {
                SessionError::NothingRecorded => {
                    AppError::FailedPrecondition(format!("{name} has no responses yet"))
                }
                other => AppError::Internal(format!("{name}: {other}")),
            })?;
        Ok(Results {
            session: session.clone(),
            norms,
            profile,
            deidentified: false,
            referral: Referral::NotShown,
        })
    }
}
