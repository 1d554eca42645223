//! The application layer: every operation the service offers, as a typed async function that
//! takes the [`Caller`] and domain values and returns domain values or one [`AppError`].
//!
//! ```text
//! transport (gRPC: authentication layer → conversion → status | console: session cookie → form)
//!     → app (this module: authorization, audit, idempotency, limits, per-session lock, replay)
//!         → qabilet-core (pure rules)   → store (persistence only)
//! ```
//!
//! The layer owns, in one place each:
//!
//! * **authorization** — every operation checks `auth::policy` against the stored record it
//!   touches ([`App::authorize`]); lists are confined to the caller's scope;
//! * **audit** — one row per call, denials and failures included ([`audit`]);
//! * **idempotency** — request ids scoped to the calling token and compared with the stored
//!   request ([`idempotency`]);
//! * **limits** — lengths and characters of every stored text ([`fields`]), concurrent batch
//!   streams;
//! * **the session lock and replay** — a response is checked against the rules and appended
//!   in one step, with a re-read when another replica appended first ([`responses`]);
//! * **de-identification** — researchers receive no names, notes, free text or exact dates.
//!
//! Transports never call the policy, the audit log or the store themselves.

mod access;
mod audit;
mod authentication;
mod caller;
mod catalog;
mod children;
mod cohort_progress;
mod cohorts;
mod console_sessions;
mod error;
pub mod fields;
mod idempotency;
mod limits;
mod names;
mod referrals;
mod replay;
mod reports;
mod responses;
mod results;
mod rosters;
mod scoring;
mod screener_clock;
mod sessions;
mod take;
mod take_contexts;
mod tickets;
mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use caller::{Caller, Channel, Peer};
pub use catalog::{BatteryPage, DEFAULT_BATTERY_PAGE, MAX_BATTERY_PAGE};
pub use children::ChildInput;
pub use cohort_progress::{
    ChildProgress, CohortProgress, IDLE_AFTER, MAX_EXTRA_MINUTES, ProctorAction, ScreeningResult,
    ScreeningStatus, cohort_results_csv,
};
pub use cohorts::{CohortInput, INSTITUTION_KINDS, LOCALITIES};
pub use console_sessions::{CONSOLE_ABSOLUTE_EXPIRY, CONSOLE_IDLE_EXPIRY, ConsoleSignIn};
pub use error::AppError;
pub use limits::{BATCH_SEND_DEADLINE, BatchLimits, MAX_BATCH_STREAMS, MAX_BATCH_STREAMS_PER_TOKEN};
pub use referrals::PlanRequest;
pub use reports::{Rendered, ReportFormat, ReportView};
pub use responses::{ResponseInput, SubtestView};
pub use results::{Referral, Results};
pub use rosters::{EXPORT_HEADER, MAX_ROSTER_BYTES, RosterImported, roster_csv};
pub use scoring::{BatchItem, BatchRun, ChildScores, MAX_BATCH, Scored};
pub use sessions::{SessionView, Transition};
pub use take::{MAX_REFUSED_TICKETS, TakeState, TakeStep, TicketRefusal};
pub use tickets::{IssuedTicket, normalise_ticket, ticket_hash};

use qabilet_core::iin::IinKey;

use crate::auth::Authenticator;
use crate::grpc::registry::Registry;
use crate::guidance_dir::Guidance;
use crate::store::Store;

/// The application: what every transport calls.
pub struct App {
    registry: Arc<Registry>,
    guidance: Guidance,
    store: Arc<dyn Store>,
    auth: Authenticator,
    batches: BatchLimits,
    /// The key of IIN hashes (rosters carrying IINs are refused without one).
    iin_key: Option<Arc<IinKey>>,
    /// Refused tokens per peer, for the audit log's rate of refusal rows.
    refusals: authentication::Refusals,
    /// Refused tickets per address (the lockout of `/take`).
    ticket_refusals: take::TicketRefusals,
    /// The centre and screener of each cohort a ticket holder has used.
    cohort_places: take::CohortPlaces,
    /// The contexts of children answering, kept between their answers.
    take_contexts: take_contexts::TakeContexts,
    /// One lock per session, so that two responses to one session in this process are
    /// checked and appended one after the other (across processes the store's
    /// expected-sequence check decides).
    session_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

/// What an [`App`] is built from.
pub struct AppParts {
    /// The batteries served.
    pub registry: Arc<Registry>,
    /// The guidance tables and texts of reports (or why there are none).
    pub guidance: Guidance,
    /// The storage.
    pub store: Arc<dyn Store>,
    /// How long an accepted token is remembered (see `auth`); zero asks the store every time.
    pub token_cache: Duration,
    /// The caps on batch streams.
    pub batches: BatchLimits,
    /// The key of IIN hashes, if the server has one.
    pub iin_key: Option<Arc<IinKey>>,
}

impl App {
    /// The application.
    pub fn new(parts: AppParts) -> Self {
        let AppParts {
            registry,
            guidance,
            store,
            token_cache,
            batches,
            iin_key,
        } = parts;
        App {
            auth: Authenticator::with_cache_ttl(store.clone(), token_cache),
            registry,
            guidance,
            store,
            batches,
            iin_key,
            refusals: authentication::Refusals::default(),
            ticket_refusals: take::TicketRefusals::default(),
            cohort_places: take::CohortPlaces::default(),
            take_contexts: take_contexts::TakeContexts::default(),
            session_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The batteries served.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The guidance of reports (or why there is none).
    pub fn guidance(&self) -> &Guidance {
        &self.guidance
    }
}
