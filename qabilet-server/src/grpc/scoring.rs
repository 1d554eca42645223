//! `Scoring`: stateless scoring through `qabilet-core`, one child or a streamed batch.

use std::pin::Pin;
use std::sync::Arc;

use qabilet_core::profile::{ScoredProfile, Scorer};
use qabilet_core::{NormSet, RowError, ScoreRequest};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::pb::scoring_server::Scoring;
use super::pb::{
    BatchScoreRequest, BatchScoreResult, ChildScores, Profile, ScoreProfileRequest, batch_score_result,
};
use super::registry::{Registry, battery_id};
use super::{convert, status};
use crate::auth::Authenticator;
use crate::auth::policy::{self, Action};

/// Most children in one batch request.
pub const MAX_BATCH: usize = 10_000;

/// The service.
#[derive(Clone)]
pub struct ScoringService {
    registry: Arc<Registry>,
    auth: Arc<Authenticator>,
}

impl ScoringService {
    /// Scoring against the batteries of `registry`, for callers `auth` accepts.
    pub fn new(registry: Arc<Registry>, auth: Arc<Authenticator>) -> Self {
        ScoringService { registry, auth }
    }

    async fn check<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let p = self.auth.authenticate(request.metadata()).await?;
        if policy::allowed(&p, Action::Score, None) {
            Ok(())
        } else {
            Err(Status::permission_denied("this token may not score"))
        }
    }

    fn norms(&self, name: &str) -> Result<Arc<NormSet>, Status> {
        let id =
            battery_id(name).ok_or_else(|| status::invalid_argument("battery", "must be batteries/{id}"))?;
        self.registry
            .get(id)
            .cloned()
            .ok_or_else(|| status::not_found("battery", name))
    }
}

/// A child's raw scores checked against the norms; the error names the field (under
/// `prefix`) and the reason.
fn score_request(
    norms: &NormSet,
    child: &ChildScores,
    prefix: &str,
) -> Result<ScoreRequest, (String, String)> {
    let texts: Vec<(String, String)> = child
        .raw_scores
        .iter()
        .map(|(id, raw)| (id.clone(), raw.to_string()))
        .collect();
    ScoreRequest::parse(
        norms,
        &child.birth_date,
        &child.test_date,
        texts.iter().map(|(id, raw)| (id.as_str(), raw.as_str())),
    )
    .map_err(|e| match &e {
        RowError::Date { field, source } => (format!("{prefix}.{field}"), source.to_string()),
        RowError::Age(_) => (format!("{prefix}.test_date"), e.to_string()),
        RowError::UnknownSubtest(id) | RowError::DuplicateSubtest(id) => {
            (format!("{prefix}.raw_scores[{id}]"), e.to_string())
        }
        RowError::RawNotWhole { subtest, .. } | RowError::RawOutOfRange { subtest, .. } => {
            (format!("{prefix}.raw_scores[{subtest}]"), e.to_string())
        }
    })
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<BatchScoreResult, Status>> + Send>>;

#[tonic::async_trait]
impl Scoring for ScoringService {
    async fn score_profile(
        &self,
        request: Request<ScoreProfileRequest>,
    ) -> Result<Response<Profile>, Status> {
        let ScoreProfileRequest {
            battery,
            child,
            options,
        } = request.into_inner();
        let norms = self.norms(&battery)?;
        let child = child.ok_or_else(|| status::invalid_argument("child", "required"))?;
        let req = score_request(&norms, &child, "child")
            .map_err(|(field, reason)| status::invalid_argument(&field, reason))?;
        let profile = Scorer::new(&norms, convert::options(options.as_ref())).score(&req);
        Ok(Response::new(convert::profile(&ScoredProfile::new(
            &child.id, &req, &profile,
        ))))
    }

    type BatchScoreStream = ResultStream;

    async fn batch_score(
        &self,
        request: Request<BatchScoreRequest>,
    ) -> Result<Response<Self::BatchScoreStream>, Status> {
        self.check(&request).await?;
        let BatchScoreRequest {
            battery,
            children,
            options,
        } = request.into_inner();
        let norms = self.norms(&battery)?;
        if children.len() > MAX_BATCH {
            return Err(status::invalid_argument(
                "children",
                format!("at most {MAX_BATCH} per request"),
            ));
        }
        let options = convert::options(options.as_ref());
        // Score on a blocking thread in chunks, sending results as they are ready.
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::task::spawn_blocking(move || {
            let scorer = Scorer::new(&norms, options);
            for (index, child) in children.iter().enumerate() {
                let result = match score_request(&norms, child, &format!("children[{index}]")) {
                    Ok(req) => batch_score_result::Result::Profile(convert::profile(&ScoredProfile::new(
                        &child.id,
                        &req,
                        &scorer.score(&req),
                    ))),
                    Err((field, reason)) => batch_score_result::Result::Error(format!("{field}: {reason}")),
                };
                let item = BatchScoreResult {
                    index: index as u32,
                    id: child.id.clone(),
                    result: Some(result),
                };
                if tx.blocking_send(Ok(item)).is_err() {
                    break; // the client went away
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
