//! Stateless scoring: one child's raw scores, or a streamed batch, against a loaded battery.
//! Nothing is stored, and the data is the caller's own, so only refusals are audited. A
//! batch runs under [`BatchLimits`]: a capped number at once, and a client that stops
//! reading loses its stream after the send deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use qabilet_core::profile::{ScoredProfile, Scorer};
use qabilet_core::{NormSet, RowError, ScoreRequest, ScoringOptions};
use tokio::sync::mpsc;

use super::{App, AppError, Caller};
use crate::auth::policy::Action;

/// Most children in one batch request.
pub const MAX_BATCH: usize = 10_000;
/// Results a batch computes ahead of its reader.
const BATCH_BUFFER: usize = 64;

/// One child's raw scores as the caller sends them.
#[derive(Debug, Clone, Default)]
pub struct ChildScores {
    /// The caller's id, echoed in the results.
    pub id: String,
    /// `yyyy-mm-dd`.
    pub birth_date: String,
    /// `yyyy-mm-dd`.
    pub test_date: String,
    /// Subtest id → raw score; an absent subtest was not administered.
    pub raw_scores: Vec<(String, u32)>,
}

/// A scored child.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The norm set of the scores.
    pub norms: Arc<NormSet>,
    /// The profile.
    pub profile: ScoredProfile,
}

/// One result of a batch: the child's position and id, and its profile or why it could not
/// be scored (`field: reason`).
#[derive(Debug, Clone)]
pub struct BatchItem {
    /// Position in the request.
    pub index: usize,
    /// The caller's id of the child.
    pub id: String,
    /// The profile, or `field: reason`.
    pub result: Result<ScoredProfile, String>,
}

/// A running batch: results in request order, and whether it was ended because the client
/// stopped reading.
#[derive(Debug)]
pub struct BatchRun {
    /// The norm set of the scores.
    pub norms: Arc<NormSet>,
    /// The results, as they are computed.
    pub results: mpsc::Receiver<BatchItem>,
    /// Set when the client did not read for the send deadline and the batch was ended.
    pub abandoned: Arc<AtomicBool>,
}

impl App {
    /// Scores one child against battery `battery` (`batteries/{id}`).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field (`child.birth_date`, `child.raw_scores[voc]`, …);
    /// `NOT_FOUND` for a battery not loaded.
    pub async fn score_profile(
        &self,
        caller: &Caller,
        battery: &str,
        child: ChildScores,
        options: ScoringOptions,
    ) -> Result<Scored, AppError> {
        let audit = self.audit_failures(caller, "score_profile", battery);
        let result = (|| {
            self.authorize(caller, Action::Score, None, "scoring")?;
            let norms = self.battery(battery, "battery")?;
            let req = score_request(&norms, &child, "child").map_err(|(f, r)| AppError::invalid(f, r))?;
            let profile =
                ScoredProfile::new(child.id.as_str(), &req, &Scorer::new(&norms, options).score(&req));
            Ok(Scored { norms, profile })
        })();
        self.finish(audit, result).await
    }

    /// Scores `children` against battery `battery`, streaming results in request order; a
    /// child that cannot be scored is one result with its reason, and the others go on.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for more than [`MAX_BATCH`] children; `NOT_FOUND` for a battery
    /// not loaded; `RESOURCE_EXHAUSTED` when the caller or the server runs as many batches
    /// as allowed.
    pub async fn batch_score(
        &self,
        caller: &Caller,
        battery: &str,
        children: Vec<ChildScores>,
        options: ScoringOptions,
    ) -> Result<BatchRun, AppError> {
        let audit = self.audit_failures(caller, "batch_score", battery);
        let result = (|| {
            self.authorize(caller, Action::Score, None, "scoring")?;
            let norms = self.battery(battery, "battery")?;
            if children.len() > MAX_BATCH {
                return Err(AppError::invalid(
                    "children",
                    format!("at most {MAX_BATCH} per request"),
                ));
            }
            let permit = self.batches.admit(&caller.principal.token_id)?;
            Ok((norms, permit))
        })();
        let (norms, permit) = self.finish(audit, result).await?;
        let (tx, rx) = mpsc::channel(BATCH_BUFFER);
        let abandoned = Arc::new(AtomicBool::new(false));
        let deadline = self.batches.send_deadline();
        let run = BatchRun {
            norms: norms.clone(),
            results: rx,
            abandoned: abandoned.clone(),
        };
        tokio::spawn(async move {
            // Held until the batch ends, whichever way.
            let _permit = permit;
            let scorer = Scorer::new(&norms, options);
            for (index, child) in children.iter().enumerate() {
                let result = score_request(&norms, child, &format!("children[{index}]"))
                    .map(|req| ScoredProfile::new(child.id.as_str(), &req, &scorer.score(&req)))
                    .map_err(|(field, reason)| format!("{field}: {reason}"));
                let item = BatchItem {
                    index,
                    id: child.id.clone(),
                    result,
                };
                match tx.send_timeout(item, deadline).await {
                    Ok(()) => {}
                    Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                        abandoned.store(true, Ordering::SeqCst);
                        break;
                    }
                    // The client went away.
                    Err(mpsc::error::SendTimeoutError::Closed(_)) => break,
                }
                if index % 256 == 255 {
                    tokio::task::yield_now().await;
                }
            }
        });
        Ok(run)
    }
}

/// A child's raw scores checked against the norms; the error names the field (under
/// `prefix`) and the reason.
fn score_request(
    norms: &NormSet,
    child: &ChildScores,
    prefix: &str,
) -> Result<ScoreRequest, (String, String)> {
    let texts: Vec<(&str, String)> = child
        .raw_scores
        .iter()
        .map(|(id, raw)| (id.as_str(), raw.to_string()))
        .collect();
    ScoreRequest::parse(
        norms,
        &child.birth_date,
        &child.test_date,
        texts.iter().map(|(id, raw)| (*id, raw.as_str())),
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
