//! A cohort's children as the proctor and the organiser see them: who has not started, who
//! is on which item, who has been idle over [`IDLE_AFTER`], who is paused or finished; the
//! screening result of each finished child (the national-norm index of the screener's general
//! composite, its interval and percentile, and the local percentile among the cohort's
//! finished children); and the proctor's pause and resume, of one child or of all.

use std::collections::HashMap;

use qabilet_core::battery::CompositeKind;
use qabilet_core::stats::percentile_ranks;

use super::audit::Audit;
use super::{App, AppError, Caller};
use crate::auth::policy::Action;
use crate::store::screening::{Cohort, RosterMember, Ticket};
use crate::store::{Session, SessionState, StateChange, now_ms};

/// A child in progress with no answer for this long is shown idle.
pub const IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// Where a child of the cohort is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreeningStatus {
    /// No ticket of the child has signed in.
    NotStarted,
    /// Answering: the subtest and the item due.
    InProgress {
        /// The subtest's id.
        subtest: String,
        /// The item due.
        item: String,
    },
    /// Paused by the proctor.
    Paused,
    /// Every subtest ended.
    Finished,
}

impl ScreeningStatus {
    /// `not_started`, `in_progress`, `paused` or `finished`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ScreeningStatus::NotStarted => "not_started",
            ScreeningStatus::InProgress { .. } => "in_progress",
            ScreeningStatus::Paused => "paused",
            ScreeningStatus::Finished => "finished",
        }
    }
}

/// A finished child's screening result.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreeningResult {
    /// The composite (the screener's general composite, e.g. `si`).
    pub composite: String,
    /// The index on the national norms.
    pub index: i32,
    /// Its interval's bounds.
    pub ci_low: i32,
    /// Its interval's upper bound.
    pub ci_high: i32,
    /// The national-norm percentile.
    pub percentile: f64,
    /// The classification band's id.
    pub classification: String,
    /// The mid-point percentile rank among the cohort's finished children.
    pub local_percentile: f64,
}

/// One child of the cohort.
#[derive(Debug, Clone)]
pub struct ChildProgress {
    /// The child on the roster.
    pub member: RosterMember,
    /// Where it is.
    pub status: ScreeningStatus,
    /// In progress, with no answer (or sign-in) for [`IDLE_AFTER`].
    pub idle: bool,
    /// Items answered.
    pub answered: usize,
    /// Items the screener gives at most.
    pub planned: usize,
    /// The screening session, once signed in.
    pub session_id: Option<String>,
    /// Last answer or sign-in, Unix ms.
    pub last_activity: Option<i64>,
    /// The result, once finished.
    pub result: Option<ScreeningResult>,
}

/// The cohort and its children (in roster order: class, then line).
#[derive(Debug, Clone)]
pub struct CohortProgress {
    /// The cohort.
    pub cohort: Cohort,
    /// Its norm set's notice (demonstration norms), if any.
    pub notice: Option<String>,
    /// The norm set's hash.
    pub norm_set_hash: String,
    /// The children.
    pub children: Vec<ChildProgress>,
}

/// What the proctor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProctorAction {
    /// Pause: the child's page waits.
    Pause,
    /// Resume a paused child.
    Resume,
    /// Give the child this many more minutes (1 to [`MAX_EXTRA_MINUTES`]) on the subtest it
    /// is on.
    Extend(u32),
}

/// Most extra minutes one extension gives.
pub const MAX_EXTRA_MINUTES: u32 = 60;

impl App {
    /// The cohort's children, one class (`class`) or all (blank).
    ///
    /// # Errors
    /// `NOT_FOUND`; `PERMISSION_DENIED`; `FAILED_PRECONDITION` when the cohort's screener is
    /// not served.
    pub async fn cohort_progress(
        &self,
        caller: &Caller,
        cohort: &str,
        class: &str,
    ) -> Result<CohortProgress, AppError> {
        let mut audit = self.audit(caller, "cohort_progress", cohort);
        let result = async {
            let cohort = self
                .cohort_for(caller, cohort, "cohort", Action::ReadCohort, &mut audit)
                .await?;
            let progress = self.progress_of(cohort, class).await?;
            audit.detail(format!("{} child(ren)", progress.children.len()));
            Ok(progress)
        }
        .await;
        self.finish(audit, result).await
    }

    async fn progress_of(&self, cohort: Cohort, class: &str) -> Result<CohortProgress, AppError> {
        let norms = self.registry.get(&cohort.battery_id).cloned().ok_or_else(|| {
            AppError::FailedPrecondition(format!("the screener '{}' is not served", cohort.battery_id))
        })?;
        let general = norms
            .battery
            .composites
            .iter()
            .find(|c| c.kind == CompositeKind::General)
            .or_else(|| norms.battery.composites.first())
            .map(|c| c.id.clone());
        let planned = super::take::planned(&norms);
        let class = class.trim();
        let members: Vec<RosterMember> = self
            .store
            .roster(&cohort.id)
            .await?
            .into_iter()
            .filter(|m| class.is_empty() || m.class == class)
            .collect();
        let tickets = signed_in_tickets(self.store.cohort_tickets(&cohort.id).await?);
        let now = now_ms();
        let mut children = Vec::with_capacity(members.len());
        for member in members {
            let mut row = ChildProgress {
                status: ScreeningStatus::NotStarted,
                idle: false,
                answered: 0,
                planned,
                session_id: None,
                last_activity: None,
                result: None,
                member,
            };
            if let Some(ticket) = tickets.get(&row.member.child_id)
                && let Some(session_id) = &ticket.session_id
            {
                let session = self.store.get_session(session_id).await?;
                self.fill_progress(&mut row, &session, ticket, general.as_deref(), now)
                    .await?;
            }
            children.push(row);
        }
        // The local percentile: among the cohort's (or class's) finished children.
        let finished: Vec<usize> = (0..children.len())
            .filter(|&i| children[i].result.is_some())
            .collect();
        let scores: Vec<i32> = finished
            .iter()
            .filter_map(|&i| children[i].result.as_ref().map(|r| r.index))
            .collect();
        for (&i, rank) in finished.iter().zip(percentile_ranks(&scores)) {
            if let Some(r) = children[i].result.as_mut() {
                r.local_percentile = rank;
            }
        }
        Ok(CohortProgress {
            notice: norms.id.notice.clone(),
            norm_set_hash: norms.id.hash.clone(),
            cohort,
            children,
        })
    }

    async fn fill_progress(
        &self,
        row: &mut ChildProgress,
        session: &Session,
        ticket: &Ticket,
        general: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        row.session_id = Some(session.id.clone());
        let norms = self.pinned_norms(session)?;
        let child = self.store.get_child(&session.child_id).await?;
        let log = self.store.responses(&session.id).await?;
        row.last_activity = log.last().map(|r| r.recorded_at).or(ticket.claimed_at);
        let administration = super::replay::session(&norms, session, &child, &log)?;
        let states = administration.states();
        row.answered = states.iter().map(|s| s.items_administered).sum();
        row.status = match session.state {
            SessionState::Finished => ScreeningStatus::Finished,
            SessionState::Paused => ScreeningStatus::Paused,
            SessionState::Active => states
                .iter()
                .find_map(|s| {
                    s.next_item.as_ref().filter(|_| s.done.is_none()).map(|item| {
                        ScreeningStatus::InProgress {
                            subtest: s.subtest.clone(),
                            item: item.clone(),
                        }
                    })
                })
                .unwrap_or(ScreeningStatus::Finished),
        };
        let idle_ms = i64::try_from(IDLE_AFTER.as_millis()).unwrap_or(i64::MAX);
        row.idle = matches!(row.status, ScreeningStatus::InProgress { .. })
            && row.last_activity.is_some_and(|t| now - t > idle_ms);
        if session.state == SessionState::Finished
            && let Some(general) = general
        {
            // Scored from the log already read and replayed (the results of `compute_results`).
            let name = format!("sessions/{}", session.id);
            let profile = administration
                .scored_profile(&name, qabilet_core::ScoringOptions::default())
                .map_err(|e| AppError::Internal(format!("{name}: {e}")))?;
            row.result = profile
                .composites
                .iter()
                .find(|c| c.id == general)
                .and_then(|c| c.value.as_ref())
                .map(|v| ScreeningResult {
                    composite: general.to_owned(),
                    index: v.index,
                    ci_low: v.ci.low,
                    ci_high: v.ci.high,
                    percentile: v.percentile,
                    classification: v.classification.clone(),
                    local_percentile: f64::NAN,
                });
        }
        Ok(())
    }

    /// Pauses, resumes or gives more time to the screening of one child of the cohort
    /// (`code`), or of all its children in progress in class `class` (blank: every class) when
    /// `code` is blank; returns how many changed.
    ///
    /// # Errors
    /// `NOT_FOUND` (the cohort, or a code not on its roster); `PERMISSION_DENIED`.
    pub async fn proctor(
        &self,
        caller: &Caller,
        cohort: &str,
        class: &str,
        code: &str,
        action: ProctorAction,
    ) -> Result<usize, AppError> {
        let name = match action {
            ProctorAction::Pause => "proctor_pause",
            ProctorAction::Resume => "proctor_resume",
            ProctorAction::Extend(_) => "proctor_extend",
        };
        let mut audit = self.audit(caller, name, cohort);
        let result = self
            .proctor_in(caller, cohort, class, code, action, &mut audit)
            .await;
        self.finish(audit, result).await
    }

    async fn proctor_in(
        &self,
        caller: &Caller,
        cohort: &str,
        class: &str,
        code: &str,
        action: ProctorAction,
        audit: &mut Audit,
    ) -> Result<usize, AppError> {
        let cohort = self
            .cohort_for(caller, cohort, "cohort", Action::ManageCohort, audit)
            .await?;
        let (class, code) = (class.trim(), code.trim());
        let members = self.store.roster(&cohort.id).await?;
        let targets: Vec<&RosterMember> = members
            .iter()
            .filter(|m| {
                if code.is_empty() {
                    class.is_empty() || m.class == class
                } else {
                    m.code == code
                }
            })
            .collect();
        if !code.is_empty() && targets.is_empty() {
            return Err(AppError::NotFound {
                what: "child on the roster",
                name: code.chars().take(64).collect(),
            });
        }
        if let [only] = targets.as_slice() {
            audit.child(&only.child_id);
        }
        let tickets = signed_in_tickets(self.store.cohort_tickets(&cohort.id).await?);
        let (from, to) = match action {
            ProctorAction::Pause => (SessionState::Active, SessionState::Paused),
            ProctorAction::Resume => (SessionState::Paused, SessionState::Active),
            ProctorAction::Extend(minutes) => {
                if !(1..=MAX_EXTRA_MINUTES).contains(&minutes) {
                    return Err(AppError::invalid("minutes", format!("1 to {MAX_EXTRA_MINUTES}")));
                }
                (SessionState::Active, SessionState::Active)
            }
        };
        let mut changed = 0;
        for m in targets {
            let Some(session_id) = tickets.get(&m.child_id).and_then(|t| t.session_id.clone()) else {
                continue;
            };
            self.take_contexts.forget_session(&session_id);
            if let ProctorAction::Extend(minutes) = action {
                let session = self.store.get_session(&session_id).await?;
                let position = self.screener_position(session).await?;
                if let super::TakeStep::Item { index, .. } = position.step
                    && self
                        .store
                        .extend_clock(
                            &session_id,
                            &position.norms.battery.subtests[index].id,
                            i64::from(minutes) * 60,
                        )
                        .await?
                {
                    changed += 1;
                }
                continue;
            }
            match self
                .store
                .set_session_state(StateChange {
                    session_id,
                    from: vec![from],
                    to,
                    request: None,
                })
                .await
            {
                Ok(c) if !c.existed => changed += 1,
                Ok(_) | Err(crate::store::StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        audit.detail(format!("{changed} session(s) changed"));
        Ok(changed)
    }
}

/// The signed-in ticket of each child (the one with a session; a child signs in with one).
fn signed_in_tickets(tickets: Vec<Ticket>) -> HashMap<String, Ticket> {
    tickets
        .into_iter()
        .filter(|t| t.session_id.is_some())
        .map(|t| (t.child_id.clone(), t))
        .collect()
}

/// The cohort's results as CSV: one row per child, the screening result of finished ones.
pub fn cohort_results_csv(progress: &CohortProgress) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fmt = |v: f64| {
        if v.is_finite() {
            format!("{v:.1}")
        } else {
            String::new()
        }
    };
    // Writing to a Vec cannot fail.
    let _ = w.write_record([
        "class",
        "code",
        "given_name",
        "family_name",
        "status",
        "answered",
        "composite",
        "index",
        "ci_low",
        "ci_high",
        "national_percentile",
        "local_percentile",
        "classification",
        "norm_set",
        "notice",
    ]);
    for c in &progress.children {
        let r = c.result.as_ref();
        let _ = w.write_record([
            c.member.class.as_str(),
            &c.member.code,
            c.member.given_name.as_ref().map_or("", |p| p.as_str()),
            c.member.family_name.as_ref().map_or("", |p| p.as_str()),
            c.status.as_str(),
            &c.answered.to_string(),
            r.map_or("", |r| r.composite.as_str()),
            &r.map_or(String::new(), |r| r.index.to_string()),
            &r.map_or(String::new(), |r| r.ci_low.to_string()),
            &r.map_or(String::new(), |r| r.ci_high.to_string()),
            &r.map_or(String::new(), |r| fmt(r.percentile)),
            &r.map_or(String::new(), |r| fmt(r.local_percentile)),
            r.map_or("", |r| r.classification.as_str()),
            &progress.norm_set_hash,
            progress.notice.as_deref().unwrap_or(""),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
