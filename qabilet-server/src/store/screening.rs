//! What the store keeps for stage-1 screening: cohorts (screening campaigns), their rosters
//! (which children, in which class) and the one-time tickets children sign in with, and the
//! [`ScreeningStore`] operations on them.
//!
//! A roster is imported all or nothing, in one transaction: every row is checked against the
//! children already registered in the centre (the same code must mean the same birth date,
//! sex and IIN hash) and nothing is written unless every row passes. Importing the same
//! roster again changes nothing.

use async_trait::async_trait;

use super::{Created, Page, PageRequest, Personal, RequestKey, StoreError};

/// A cohort to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCohort {
    /// The centre that runs the campaign.
    pub centre: String,
    /// The subject that creates it (the organiser).
    pub owner: String,
    /// A short name, e.g. "School 12, grade 2, spring 2027".
    pub name: String,
    /// Region (oblys or city of republican significance).
    pub region: String,
    /// District within the region.
    pub district: String,
    /// The school or institution.
    pub institution: String,
    /// `school`, `kindergarten`, `boarding` or `family_village`.
    pub institution_kind: String,
    /// `urban` or `rural`.
    pub locality: String,
    /// School grade, 0 (pre-school) to 11.
    pub grade: i64,
    /// Language of instruction (`kk`, `ru`, `en`).
    pub language: String,
    /// The screener battery the cohort takes.
    pub battery_id: String,
    /// First day, `YYYY-MM-DD`.
    pub starts_on: String,
    /// Last day, `YYYY-MM-DD`.
    pub ends_on: String,
    /// The idempotency key of the request that creates it.
    pub request: Option<RequestKey>,
}

/// A stored cohort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cohort {
    /// Store-generated id.
    pub id: String,
    /// The centre that runs the campaign.
    pub centre: String,
    /// The subject that created it.
    pub owner: String,
    /// A short name.
    pub name: String,
    /// Region.
    pub region: String,
    /// District.
    pub district: String,
    /// The school or institution.
    pub institution: String,
    /// `school`, `kindergarten`, `boarding` or `family_village`.
    pub institution_kind: String,
    /// `urban` or `rural`.
    pub locality: String,
    /// School grade, 0 to 11.
    pub grade: i64,
    /// Language of instruction.
    pub language: String,
    /// The screener battery.
    pub battery_id: String,
    /// First day, `YYYY-MM-DD`.
    pub starts_on: String,
    /// Last day, `YYYY-MM-DD`.
    pub ends_on: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

/// Which cohorts to list (`None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CohortFilter {
    /// Only cohorts of this centre.
    pub centre: Option<String>,
    /// Only cohorts created by this subject.
    pub owner: Option<String>,
}

/// One checked row of a roster, as the store writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    /// The line of the roster file it came from (for errors).
    pub line: u64,
    /// The child's code in the centre.
    pub code: String,
    /// Optional personal data.
    pub given_name: Option<Personal>,
    /// Optional personal data.
    pub family_name: Option<Personal>,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `F` or `M`, or none.
    pub sex: Option<String>,
    /// The language the child is tested in.
    pub test_language: String,
    /// The class within the cohort, e.g. `2А`.
    pub class: String,
    /// HMAC-SHA-256 hex of the child's IIN under the server's key.
    pub iin_hash: Option<String>,
}

/// A roster to import into a cohort.
#[derive(Debug, Clone)]
pub struct RosterImport {
    /// The cohort (must exist).
    pub cohort_id: String,
    /// The cohort's centre: where children are found or registered.
    pub centre: String,
    /// The owner of children registered by the import.
    pub owner: String,
    /// The rows, each already checked on its own.
    pub rows: Vec<RosterRow>,
    /// Only check the rows against the stored children: write nothing whatever the outcome.
    pub check_only: bool,
    /// Whether the importer may enrol children registered by other subjects of the centre (a
    /// role that reads the whole centre). Without it, a code registered to another owner is
    /// refused with one neutral reason: none of that child's fields is compared, filled in
    /// or named.
    pub enrol_any_owner: bool,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RosterCounts {
    /// Children registered in the centre.
    pub children_created: u64,
    /// Registered children given a name or IIN hash they lacked.
    pub children_updated: u64,
    /// Children added to the cohort.
    pub members_added: u64,
    /// Members moved to another class.
    pub members_moved: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
}

/// A row that disagrees with what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowConflict {
    /// The row's line.
    pub line: u64,
    /// The column at fault.
    pub column: &'static str,
    /// Why (never contains personal data).
    pub reason: String,
}

/// The outcome of an import: written, or refused with every conflicting row (nothing written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterOutcome {
    /// Every row passed and the changes are durable.
    Imported(RosterCounts),
    /// Some rows disagree with stored children; nothing was written.
    Rejected(Vec<RowConflict>),
}

/// A member of a cohort, with its child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterMember {
    /// The child's id.
    pub child_id: String,
    /// The child's code.
    pub code: String,
    /// Optional personal data.
    pub given_name: Option<Personal>,
    /// Optional personal data.
    pub family_name: Option<Personal>,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `F`, `M` or none.
    pub sex: Option<String>,
    /// Test language.
    pub test_language: String,
    /// Class within the cohort.
    pub class: String,
    /// Whether an IIN hash is on file for the child.
    pub iin_linked: bool,
    /// The line of the roster that last placed the child.
    pub line: u64,
}

/// A ticket to store: the hash of its code, never the code.
#[derive(Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// SHA-256 hex of the ticket code.
    pub secret_hash: String,
    /// The child it signs in.
    pub child_id: String,
    /// When it stops working, Unix milliseconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for NewTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTicket")
            .field("secret_hash", &"<redacted>")
            .field("child_id", &self.child_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A stored ticket.
#[derive(Clone, PartialEq, Eq)]
pub struct Ticket {
    /// SHA-256 hex of the ticket code.
    pub secret_hash: String,
    /// The cohort.
    pub cohort_id: String,
    /// The child.
    pub child_id: String,
    /// Issue time, Unix milliseconds.
    pub issued_at: i64,
    /// Expiry, Unix milliseconds.
    pub expires_at: i64,
    /// When it was replaced by a newer ticket, if it was.
    pub revoked_at: Option<i64>,
    /// SHA-256 hex of the secret of the device it is bound to (after its first use).
    pub device_hash: Option<String>,
    /// The screening session it opened.
    pub session_id: Option<String>,
    /// First use, Unix milliseconds.
    pub claimed_at: Option<i64>,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("secret_hash", &"<redacted>")
            .field("cohort_id", &self.cohort_id)
            .field("child_id", &self.child_id)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .field("bound", &self.device_hash.is_some())
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// The clock of a self-administered subtest in a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtestClock {
    /// The subtest.
    pub subtest: String,
    /// When the child started it, Unix ms.
    pub started_at: i64,
    /// Extra time the proctor gave, seconds.
    pub extra_seconds: i64,
}

/// What a ticket holder's answer is checked against, read together: the device's ticket
/// and, once the ticket has opened a session, that session's state for the subtest answered
/// (see [`Store::take_context`](super::Store::take_context)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeContext {
    /// The ticket bound to the device.
    pub ticket: Ticket,
    /// The session the ticket opened, if it has opened one.
    pub session: Option<TakeSession>,
}

/// A screening session as an answer to one of its subtests needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeSession {
    /// The session, its child and its responses to the subtest.
    pub subtest: super::SubtestContext,
    /// The session's subtest clocks.
    pub clocks: Vec<SubtestClock>,
    /// The session's pauses and resumptions, oldest first.
    pub changes: Vec<super::SessionChange>,
}

/// Storage of cohorts, rosters and tickets (see the module docs).
#[async_trait]
pub trait ScreeningStore: Send + Sync {
    /// Creates a cohort; idempotent on its key.
    async fn create_cohort(&self, new: NewCohort) -> Result<Created<Cohort>, StoreError>;

    /// One cohort by id.
    async fn get_cohort(&self, id: &str) -> Result<Cohort, StoreError>;

    /// Cohorts matching `filter`, ordered by id, one page at a time.
    async fn list_cohorts(&self, filter: CohortFilter, page: PageRequest)
    -> Result<Page<Cohort>, StoreError>;

    /// Imports a roster in one transaction (see the module docs), or with
    /// [`RosterImport::check_only`] only checks it. [`StoreError::NotFound`] for an unknown
    /// cohort.
    async fn import_roster(&self, import: RosterImport) -> Result<RosterOutcome, StoreError>;

    /// The cohort's members, ordered by class, then roster line, then code.
    async fn roster(&self, cohort_id: &str) -> Result<Vec<RosterMember>, StoreError>;

    /// Stores new tickets for members of the cohort, in one transaction; each child's earlier
    /// tickets in the cohort that were never used are revoked. A child who signed in with a
    /// ticket of the cohort meanwhile gets none; returns the children that got one.
    async fn issue_tickets(
        &self,
        cohort_id: &str,
        tickets: Vec<NewTicket>,
    ) -> Result<Vec<String>, StoreError>;

    /// Every ticket of the cohort (revoked ones too), oldest first.
    async fn cohort_tickets(&self, cohort_id: &str) -> Result<Vec<Ticket>, StoreError>;

    /// The ticket with this hash, if any (revoked and expired ones too: the caller decides).
    async fn ticket(&self, secret_hash: &str) -> Result<Option<Ticket>, StoreError>;

    /// The ticket bound to the device whose secret hashes to `device_hash`, if any.
    async fn ticket_by_device(&self, device_hash: &str) -> Result<Option<Ticket>, StoreError>;

    /// Binds an unbound, unrevoked ticket to `device_hash` at `at` (nothing happens to a
    /// ticket already bound) and returns the ticket as stored afterwards; `None` for an
    /// unknown hash. The caller compares the stored device with its own.
    async fn claim_ticket(
        &self,
        secret_hash: &str,
        device_hash: &str,
        at: i64,
    ) -> Result<Option<Ticket>, StoreError>;

    /// Starts the clock of `subtest` in the session at `at` (a clock already started keeps
    /// its start) and returns the session's clocks.
    async fn start_clock(
        &self,
        session_id: &str,
        subtest: &str,
        at: i64,
    ) -> Result<Vec<SubtestClock>, StoreError>;

    /// The session's subtest clocks.
    async fn clocks(&self, session_id: &str) -> Result<Vec<SubtestClock>, StoreError>;

    /// Adds `seconds` to the clock of `subtest` in the session; whether it had started.
    async fn extend_clock(&self, session_id: &str, subtest: &str, seconds: i64) -> Result<bool, StoreError>;

    /// Records the session a ticket opened (only once: a ticket with a session keeps it) and
    /// returns the ticket as stored afterwards.
    async fn attach_ticket_session(&self, secret_hash: &str, session_id: &str) -> Result<Ticket, StoreError>;
}
