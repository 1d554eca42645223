//! `Scoring`: stateless scoring, one child or a streamed batch — conversion between messages
//! and the application layer's operations (limits on batches are the application's).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::authenticate::caller;
use super::convert;
use super::pb::scoring_server::Scoring;
use super::pb::{
    self, BatchScoreRequest, BatchScoreResult, Profile, ScoreProfileRequest, batch_score_result,
};
use crate::app::{App, ChildScores};

/// The service.
#[derive(Clone)]
pub struct ScoringService {
    app: Arc<App>,
}

impl ScoringService {
    /// Scoring through `app`.
    pub fn new(app: Arc<App>) -> Self {
        ScoringService { app }
    }
}

/// A child's scores from the message.
fn child_scores(c: pb::ChildScores) -> ChildScores {
    let pb::ChildScores {
        id,
        birth_date,
        test_date,
        raw_scores,
    } = c;
    ChildScores {
        id,
        birth_date,
        test_date,
        raw_scores: raw_scores.into_iter().collect(),
    }
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<BatchScoreResult, Status>> + Send>>;

#[tonic::async_trait]
impl Scoring for ScoringService {
    async fn score_profile(
        &self,
        request: Request<ScoreProfileRequest>,
    ) -> Result<Response<Profile>, Status> {
        let caller = caller(&request)?;
        let ScoreProfileRequest {
            battery,
            child,
            options,
        } = request.into_inner();
        let child = child.ok_or_else(|| super::status::invalid_argument("child", "required"))?;
        let scored = self
            .app
            .score_profile(
                &caller,
                &battery,
                child_scores(child),
                convert::options(options.as_ref()),
            )
            .await?;
        Ok(Response::new(convert::profile(&scored.profile)))
    }

    type BatchScoreStream = ResultStream;

    async fn batch_score(
        &self,
        request: Request<BatchScoreRequest>,
    ) -> Result<Response<Self::BatchScoreStream>, Status> {
        let caller = caller(&request)?;
        let BatchScoreRequest {
            battery,
            children,
            options,
        } = request.into_inner();
        let run = self
            .app
            .batch_score(
                &caller,
                &battery,
                children.into_iter().map(child_scores).collect(),
                convert::options(options.as_ref()),
            )
            .await?;
        let abandoned = run.abandoned.clone();
        let results = tokio_stream::wrappers::ReceiverStream::new(run.results).map(move |item| {
            let result = match item.result {
                Ok(profile) => batch_score_result::Result::Profile(convert::profile(&profile)),
                Err(reason) => batch_score_result::Result::Error(reason),
            };
            Ok(BatchScoreResult {
                index: item.index as u32,
                id: item.id,
                result: Some(result),
            })
        });
        // A batch ended because its client stopped reading ends with that status.
        let end = tokio_stream::once(()).filter_map(move |()| {
            abandoned.load(Ordering::SeqCst).then(|| {
                Err(Status::deadline_exceeded(
                    "the batch was ended: its results were not read in time",
                ))
            })
        });
        Ok(Response::new(Box::pin(results.chain(end))))
    }
}
