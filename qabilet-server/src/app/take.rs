//! The child's screener (`/take`): signing in with a ticket, what comes next, and an answer.
//!
//! A ticket signs in one device: at its first use it is bound to the SHA-256 of a random
//! secret the device keeps (a cookie), and the screening session it opens is recorded with
//! it. Later the same device continues that session; any other device is refused, as are a
//! replaced (revoked), expired or unknown ticket. The device's secret is all the page sends
//! afterwards: the session is found from it, never named by the page, so a ticket holder can
//! reach no other session.
//!
//! The child answers by choosing an option; the score is the battery's key's, worked out here
//! (the page never sends a score). Each answer carries the page's idempotency key: an answer
//! sent twice (a retry after a dropped connection, a reload) is recorded once. When the last
//! subtest ends, the session is finished.
//!
//! A ticket holder is audited with no role, under `ticket:` and the first 16 hex digits of the
//! ticket's hash, in the cohort's centre.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use qabilet_core::NormSet;
use qabilet_core::battery::content::ItemContent;

use super::audit::Audit;
use super::idempotency::request_key;
use super::responses::{Grant, ResponseInput};
use super::screener_clock::{ClockState, clock_state};
use super::tickets::{normalise_ticket, ticket_hash};
use super::{App, AppError, Caller, Channel, Peer};
use crate::auth::Principal;
use crate::store::screening::{Cohort, Ticket};
use crate::store::{
    Child, NewSession, Role, Session, SessionState, StateChange, TakeContext, TakeSession, now_ms,
};

/// Why a ticket does not sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRefusal {
    /// Not ten characters of the ticket alphabet.
    Malformed,
    /// No such ticket.
    Unknown,
    /// A newer ticket was printed for the child.
    Replaced,
    /// The cohort's last day has passed.
    Expired,
    /// Another device signed in with it.
    OtherDevice,
    /// The screener it opened is finished.
    Used,
    /// The page's device is signed in with no ticket (or its ticket was replaced).
    SignedOut,
}

impl TicketRefusal {
    /// A short English reason (the page shows its own words in the child's language).
    pub fn reason(self) -> &'static str {
        match self {
            TicketRefusal::Malformed => "not a ticket",
            TicketRefusal::Unknown => "unknown ticket",
            TicketRefusal::Replaced => "the ticket was replaced by a newer one",
            TicketRefusal::Expired => "the ticket has expired",
            TicketRefusal::OtherDevice => "the ticket is in use on another device",
            TicketRefusal::Used => "the ticket was used: its screener is finished",
            TicketRefusal::SignedOut => "this device is not signed in",
        }
    }
}

/// Where a child is in the screener.
#[derive(Debug, Clone)]
pub enum TakeStep {
    /// An item to answer, in subtest `index` of the battery.
    Item {
        /// The subtest's position in the battery.
        index: usize,
        /// The item and its pictures.
        item: ItemContent,
    },
    /// The proctor paused the session.
    Paused,
    /// Every subtest has ended.
    Done,
}

/// The state of a child's screener, as the page shows it.
#[derive(Debug, Clone)]
pub struct TakeState {
    /// The session the ticket opened.
    pub session: Session,
    /// Its norm set (and item content).
    pub norms: Arc<NormSet>,
    /// The child's test language (read when the whole session is: at sign-in and between
    /// subtests).
    pub lang: Option<qabilet_core::Lang>,
    /// What comes next.
    pub step: TakeStep,
    /// Items answered so far.
    pub answered: usize,
    /// Items the screener gives at most (fixed forms in full, adaptive subtests to their
    /// maximum).
    pub planned: usize,
    /// Milliseconds left on the current subtest's clock, once the child started it.
    pub time_left_ms: Option<i64>,
}

/// The offset of the programme's clock (Kazakhstan keeps UTC+5 throughout the year): a
/// screening session's test date is today's date there.
pub const PROGRAMME_UTC_OFFSET_HOURS: i8 = 5;

/// Refused tickets accepted from one address within [`REFUSAL_MINUTE`]; past it every
/// attempt is refused unread (a classroom behind one address mistypes far less; guessing a
/// 50-bit ticket at this rate is hopeless).
pub const MAX_REFUSED_TICKETS: u32 = 60;
/// The window of [`MAX_REFUSED_TICKETS`].
pub const REFUSAL_MINUTE: Duration = Duration::from_secs(60);

/// Addresses whose refusals are counted at once; past it the counts start again (memory stays
/// bounded whatever the number of addresses).
const REFUSAL_ADDRESSES: usize = 16_384;

/// Refused tickets per address (an IPv6 address by its /64, the block one host is given):
/// when the window opened and how many it has had.
#[derive(Debug, Default)]
pub(crate) struct TicketRefusals(Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>);

/// The key an address is counted under: an IPv4 address itself, an IPv6 address its /64.
fn refusal_key(addr: Option<IpAddr>) -> Option<IpAddr> {
    match addr {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            Some(IpAddr::V6(std::net::Ipv6Addr::new(
                s[0], s[1], s[2], s[3], 0, 0, 0, 0,
            )))
        }
        Some(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4),
        other => other,
    }
}

impl TicketRefusals {
    /// Counts a refusal from `addr`; whether the address is over the limit.
    fn over_limit(&self, addr: Option<IpAddr>) -> bool {
        let addr = refusal_key(addr);
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= REFUSAL_ADDRESSES && !map.contains_key(&addr) {
            map.clear();
        }
        let now = Instant::now();
        let entry = map.entry(addr).or_insert((now, 0));
        if now.duration_since(entry.0) >= REFUSAL_MINUTE {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 > MAX_REFUSED_TICKETS
    }

    /// Whether `addr` is over the limit now (without counting an attempt).
    fn blocked(&self, addr: Option<IpAddr>) -> bool {
        let addr = refusal_key(addr);
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&addr)
            .is_some_and(|(opened, n)| opened.elapsed() < REFUSAL_MINUTE && *n > MAX_REFUSED_TICKETS)
    }
}

/// Where a cohort is: its centre (what its audit rows name) and its screener.
#[derive(Debug, Clone)]
pub(crate) struct CohortPlace {
    centre: String,
    battery: String,
}

/// The cohorts' places, by id.
pub(crate) type CohortPlaces = Mutex<HashMap<String, CohortPlace>>;

/// The hash of a device's secret.
pub fn device_hash(secret: &str) -> String {
    crate::auth::hash_secret(secret)
}

/// The caller a ticket holder is: no centre of its own (so the policy grants it nothing but
/// the catalog), audited without a role, as `ticket:` and the first 16 hex digits of the
/// ticket's hash (or `ticket:unknown` for an attempt with no ticket known).
fn take_caller(ticket: Option<&Ticket>, peer: Peer) -> Caller {
    let id = ticket.map(|t| format!("ticket:{}", &t.secret_hash[..16]));
    Caller {
        principal: Principal {
            subject: id.clone().unwrap_or_else(|| "ticket:unknown".into()),
            token_id: id.unwrap_or_default(),
            role: Role::Researcher,
            centre: String::new(),
        },
        peer: Peer {
            channel: Channel::Take,
            addr: peer.addr,
        },
    }
}

impl App {
    /// Signs a device in with the ticket `typed` (see the module docs) and opens the child's
    /// screening session if it has none. `device_secret` is the secret the device holds, if
    /// any: a ticket bound to it continues; a ticket bound to no device is bound to a new
    /// secret. Returns the state and the secret the device keeps from now on.
    ///
    /// # Errors
    /// [`AppError::Ticket`] for a ticket that does not sign in; `RESOURCE_EXHAUSTED` after
    /// [`MAX_REFUSED_TICKETS`] refused tickets from one address within a minute.
    pub async fn take_sign_in(
        &self,
        peer: Peer,
        typed: &str,
        device_secret: Option<&str>,
    ) -> Result<(TakeState, String), AppError> {
        if self.ticket_refusals.blocked(peer.addr.map(|a| a.ip())) {
            return Err(AppError::Exhausted(
                "too many refused tickets from this address; wait a minute".into(),
            ));
        }
        let Some(normalised) = normalise_ticket(typed) else {
            return self
                .refuse_ticket(peer, "take_sign_in", TicketRefusal::Malformed)
                .await;
        };
        let hash = ticket_hash(&normalised);
        let Some(ticket) = self.store.ticket(&hash).await? else {
            return self
                .refuse_ticket(peer, "take_sign_in", TicketRefusal::Unknown)
                .await;
        };
        let caller = take_caller(Some(&ticket), peer);
        let mut audit = self.audit(&caller, "take_sign_in", format!("cohorts/{}", ticket.cohort_id));
        audit.child(&ticket.child_id);
        let result = self.take_sign_in_in(ticket, device_secret, &mut audit).await;
        self.finish(audit, result).await
    }

    async fn take_sign_in_in(
        &self,
        ticket: Ticket,
        device_secret: Option<&str>,
        audit: &mut Audit,
    ) -> Result<(TakeState, String), AppError> {
        let cohort = self.store.get_cohort(&ticket.cohort_id).await?;
        audit.centre(&cohort.centre);
        let (ticket, secret) = match (&ticket.device_hash, device_secret) {
            (Some(bound), Some(secret)) if *bound == device_hash(secret) => {
                usable(&ticket, bound)?;
                (ticket, secret.to_owned())
            }
            (Some(_), _) => {
                let finished = match &ticket.session_id {
                    Some(id) => self.store.get_session(id).await?.state == SessionState::Finished,
                    None => false,
                };
                return Err(AppError::Ticket(if finished {
                    TicketRefusal::Used
                } else {
                    TicketRefusal::OtherDevice
                }));
            }
            (None, _) => {
                // A new secret for every first use: a device shared by several children
                // (one after another) holds the secret of the last ticket it signed in with.
                let secret = format!(
                    "qtd_{}",
                    &crate::auth::new_secret()[crate::auth::SECRET_PREFIX.len()..]
                );
                let device = device_hash(&secret);
                usable(&ticket, &device)?;
                let claimed = self
                    .store
                    .claim_ticket(&ticket.secret_hash, &device, now_ms())
                    .await?
                    .ok_or(AppError::Ticket(TicketRefusal::Unknown))?;
                // Another device may have claimed it first.
                usable(&claimed, &device)?;
                (claimed, secret)
            }
        };
        let session = match &ticket.session_id {
            Some(id) => self.store.get_session(id).await?,
            None => self.open_screening(&ticket, &cohort, audit).await?,
        };
        audit.resource(format!("sessions/{}", session.id));
        Ok((self.take_state_of(session).await?, secret))
    }

    /// Opens the screening session of a ticket's child (idempotent per ticket: two sign-ins
    /// at once open one session).
    async fn open_screening(
        &self,
        ticket: &Ticket,
        cohort: &Cohort,
        audit: &mut Audit,
    ) -> Result<Session, AppError> {
        let norms = self.registry.get(&cohort.battery_id).cloned().ok_or_else(|| {
            AppError::FailedPrecondition(format!("the screener '{}' is not served", cohort.battery_id))
        })?;
        let child = self.store.get_child(&ticket.child_id).await?;
        let today = jiff::tz::Offset::constant(PROGRAMME_UTC_OFFSET_HOURS)
            .to_datetime(jiff::Timestamp::now())
            .date()
            .to_string();
        let caller = take_caller(
            Some(ticket),
            Peer {
                channel: Channel::Take,
                addr: None,
            },
        );
        let request = request_key(
            &caller,
            Some("open-screening".to_owned()),
            "open_screening",
            &[&child.id, &norms.battery.id],
        );
        let created = self
            .store
            .create_session(NewSession {
                child_id: child.id.clone(),
                battery_id: norms.battery.id.clone(),
                norm_set_hash: norms.id.hash.clone(),
                test_date: today,
                examiner: cohort.owner.clone(),
                request,
            })
            .await?;
        let ticket = self
            .store
            .attach_ticket_session(&ticket.secret_hash, &created.record.id)
            .await?;
        audit.detail("screening session opened");
        // A concurrent sign-in may have attached its session first: that one is the child's.
        match ticket.session_id {
            Some(id) if id != created.record.id => Ok(self.store.get_session(&id).await?),
            _ => Ok(created.record),
        }
    }

    /// The ticket of the device whose secret is `device_secret`, the caller it is, and the
    /// centre of its cohort (what its audit rows name).
    async fn device_ticket(
        &self,
        peer: Peer,
        device_secret: &str,
        action: &'static str,
    ) -> Result<(Ticket, Caller, CohortPlace), AppError> {
        let device = device_hash(device_secret);
        let ticket = match self.store.ticket_by_device(&device).await? {
            Some(t) => t,
            None => return self.refuse_ticket(peer, action, TicketRefusal::SignedOut).await,
        };
        let place = self.cohort_place(&ticket.cohort_id).await?;
        let caller = take_caller(Some(&ticket), peer);
        Ok((ticket, caller, place))
    }

    /// The centre and screener of a cohort (neither changes once it is created: remembered).
    async fn cohort_place(&self, cohort_id: &str) -> Result<CohortPlace, AppError> {
        let cached = self
            .cohort_places
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(cohort_id)
            .cloned();
        if let Some(place) = cached {
            return Ok(place);
        }
        let cohort = self.store.get_cohort(cohort_id).await?;
        let place = CohortPlace {
            centre: cohort.centre,
            battery: cohort.battery_id,
        };
        let mut places = self.cohort_places.lock().unwrap_or_else(PoisonError::into_inner);
        if places.len() >= 10_000 {
            places.clear();
        }
        places.insert(cohort_id.to_owned(), place.clone());
        Ok(place)
    }

    /// Where the child of the device's ticket is in the screener.
    ///
    /// # Errors
    /// [`AppError::Ticket`] for a device signed in with no (usable) ticket.
    pub async fn take_state(&self, peer: Peer, device_secret: &str) -> Result<TakeState, AppError> {
        let (ticket, caller, place) = self.device_ticket(peer, device_secret, "take_state").await?;
        let centre = place.centre;
        let mut audit = self.audit_failures(&caller, "take_state", format!("cohorts/{}", ticket.cohort_id));
        audit.centre(&centre);
        audit.child(&ticket.child_id);
        let result = async {
            usable(&ticket, &device_hash(device_secret))?;
            let id = ticket
                .session_id
                .as_deref()
                .ok_or(AppError::Ticket(TicketRefusal::SignedOut))?;
            self.take_state_of(self.store.get_session(id).await?).await
        }
        .await;
        self.finish(audit, result).await
    }

    /// Records the child's choice of option `choice` on item `item` of subtest `subtest`
    /// (`request_id`: the page's idempotency key) and returns what comes next.
    ///
    /// # Errors
    /// [`AppError::Ticket`]; `INVALID_ARGUMENT` for an unknown item or option;
    /// `FAILED_PRECONDITION` for an item that is not the one due (answered already, or a
    /// paused session).
    pub async fn take_answer(
        &self,
        peer: Peer,
        device_secret: &str,
        subtest: &str,
        item: &str,
        choice: usize,
        request_id: &str,
    ) -> Result<TakeState, AppError> {
        // The ticket, the session's context for the subtest, its clocks and its pauses: as the
        // device's last answer left them (see `take_contexts`), or read together.
        let device = device_hash(device_secret);
        let kept = self.take_contexts.take(&device, subtest);
        let was_kept = kept.is_some();
        let context = match kept {
            Some(context) => context,
            None => match self.store.take_context(&device, subtest).await? {
                Some(context) => context,
                None => {
                    return self
                        .refuse_ticket(peer, "take_answer", TicketRefusal::SignedOut)
                        .await;
                }
            },
        };
        let ticket = context.ticket;
        let place = self.cohort_place(&ticket.cohort_id).await?;
        let caller = take_caller(Some(&ticket), peer);
        let mut audit = self.audit(&caller, "take_answer", format!("cohorts/{}", ticket.cohort_id));
        audit.centre(&place.centre);
        let cohort_battery = place.battery;
        audit.child(&ticket.child_id);
        let result = async {
            usable(&ticket, &device)?;
            let (session_id, session) = match (ticket.session_id.as_deref(), context.session) {
                (Some(id), Some(session)) => (id, session),
                _ => return Err(AppError::Ticket(TicketRefusal::SignedOut)),
            };
            // The norms of the cohort's screener (the session is pinned to them: the append
            // below checks that).
            let norms = self.registry.get(&cohort_battery).cloned().ok_or_else(|| {
                AppError::FailedPrecondition(format!("the screener '{cohort_battery}' is not served"))
            })?;
            let index = super::responses::subtest_index(&norms, subtest)?;
            let content = norms.content.get(index).and_then(Option::as_ref).ok_or_else(|| {
                AppError::invalid("subtest", format!("subtest '{subtest}' is not self-administered"))
            })?;
            let item_content = content.items.iter().find(|i| i.id == item).ok_or_else(|| {
                AppError::invalid("item", format!("subtest '{subtest}' has no item '{item}'"))
            })?;
            let score = item_content
                .score(choice)
                .map_err(|e| AppError::invalid("choice", e.to_string()))?;
            // The subtest's clock: started by the page after the practice items (an answer
            // without it starts it), and an answer after it ran out is not taken (a kept
            // context may not know of an extension given elsewhere: read again first).
            let TakeSession {
                subtest: mut log,
                mut clocks,
                mut changes,
            } = session;
            if !clocks.iter().any(|c| c.subtest == subtest) {
                clocks = self.store.start_clock(session_id, subtest, now_ms()).await?;
            }
            if was_kept
                && clock_state(&norms, index, &clocks, &changes, now_ms()) == ClockState::Out
                && let Some(TakeContext {
                    session: Some(fresh), ..
                }) = self.store.take_context(&device, subtest).await?
            {
                (log, clocks, changes) = (fresh.subtest, fresh.clocks, fresh.changes);
            }
            if clock_state(&norms, index, &clocks, &changes, now_ms()) == ClockState::Out {
                return Err(AppError::FailedPrecondition(format!(
                    "the time of subtest '{subtest}' is up"
                )));
            }
            let name = format!("sessions/{session_id}");
            let mut view = self
                .record_response_in(
                    &caller,
                    Grant::Ticket { session_id },
                    &name,
                    subtest,
                    Some(log),
                    ResponseInput {
                        item: item.to_owned(),
                        score: u32::from(score),
                        override_reason: String::new(),
                    },
                    request_id,
                    &mut audit,
                )
                .await?;
            // The subtest goes on: its next item, from the state the append left (one answer
            // is one response, so the log's length is the count answered). When it has ended,
            // the whole session is read to find what follows.
            let clock = clock_state(&norms, index, &clocks, &changes, now_ms());
            if view.state.done.is_none()
                && clock != ClockState::Out
                && view.session.state == SessionState::Active
                && let Some(next) = view.state.next_item.as_deref().and_then(|id| content.item(id))
            {
                if let Some(log) = view.appended.take() {
                    let session = TakeSession {
                        subtest: log,
                        clocks,
                        changes,
                    };
                    self.take_contexts.keep(
                        &device,
                        subtest,
                        TakeContext {
                            ticket: ticket.clone(),
                            session: Some(session),
                        },
                    );
                }
                return Ok(TakeState {
                    step: TakeStep::Item {
                        index,
                        item: next.clone(),
                    },
                    answered: usize::try_from(view.log_len).unwrap_or(0),
                    planned: planned(&norms),
                    time_left_ms: match clock {
                        ClockState::Running(left) => Some(left),
                        _ => None,
                    },
                    lang: None,
                    session: view.session,
                    norms,
                });
            }
            self.take_state_of(self.store.get_session(session_id).await?)
                .await
        }
        .await;
        self.finish(audit, result).await
    }

    /// A picture (SVG text) of the screener the device's ticket takes: `path` as the battery's
    /// item content names it. Only failures are audited (a picture is no child's data).
    ///
    /// # Errors
    /// [`AppError::Ticket`]; `NOT_FOUND` for a picture the ticket's screener does not have.
    pub async fn take_picture(
        &self,
        peer: Peer,
        device_secret: &str,
        battery: &str,
        path: &str,
    ) -> Result<String, AppError> {
        let (ticket, caller, place) = self.device_ticket(peer, device_secret, "take_picture").await?;
        let centre = place.centre;
        let mut audit = self.audit_failures(&caller, "take_picture", format!("batteries/{battery}"));
        audit.centre(&centre);
        let result = async {
            usable(&ticket, &device_hash(device_secret))?;
            let not_found = || AppError::NotFound {
                what: "picture",
                name: path.chars().take(200).collect(),
            };
            if place.battery != battery {
                return Err(not_found());
            }
            let norms = self.registry.get(battery).ok_or_else(not_found)?;
            norms
                .content
                .iter()
                .flatten()
                .find_map(|c| c.svg.get(path))
                .cloned()
                .ok_or_else(not_found)
        }
        .await;
        self.finish(audit, result).await
    }

    /// The screener's state of `session` now (see [`screener_clock`](super::screener_clock)
    /// for time limits); a session whose every subtest has ended is finished here.
    async fn take_state_of(&self, session: Session) -> Result<TakeState, AppError> {
        let state = self.screener_position(session).await?;
        if matches!(state.step, TakeStep::Done) && state.session.state == SessionState::Active {
            self.take_contexts.forget_session(&state.session.id);
            self.store
                .set_session_state(StateChange {
                    session_id: state.session.id.clone(),
                    from: vec![SessionState::Active],
                    to: SessionState::Finished,
                    request: None,
                })
                .await?;
            let finished = self.store.get_session(&state.session.id).await?;
            return Ok(TakeState {
                session: finished,
                step: TakeStep::Done,
                time_left_ms: None,
                ..state
            });
        }
        Ok(state)
    }

    /// Where the child of `session` is: the first item due in the first subtest that has
    /// neither ended nor run out of time.
    pub(crate) async fn screener_position(&self, session: Session) -> Result<TakeState, AppError> {
        let norms = self.pinned_norms(&session)?;
        let child: Child = self.store.get_child(&session.child_id).await?;
        let log = self.store.responses(&session.id).await?;
        let states = super::replay::session(&norms, &session, &child, &log)?.states();
        let clocks = self.store.clocks(&session.id).await?;
        let changes = self.store.session_changes(&session.id).await?;
        let now = now_ms();
        let lang = child.test_language.parse().ok();
        let answered = states.iter().map(|s| s.items_administered).sum();
        let planned = planned(&norms);
        let mut time_left_ms = None;
        let step = match session.state {
            SessionState::Finished => TakeStep::Done,
            SessionState::Paused => TakeStep::Paused,
            SessionState::Active => {
                let mut step = TakeStep::Done;
                for (index, state) in states.iter().enumerate() {
                    let clock = clock_state(&norms, index, &clocks, &changes, now);
                    if state.done.is_some() || clock == ClockState::Out {
                        continue;
                    }
                    let content = norms.content.get(index).and_then(Option::as_ref);
                    if let (Some(next), Some(content)) = (&state.next_item, content)
                        && let Some(item) = content.item(next)
                    {
                        if let ClockState::Running(left) = clock {
                            time_left_ms = Some(left);
                        }
                        step = TakeStep::Item {
                            index,
                            item: item.clone(),
                        };
                        break;
                    }
                }
                step
            }
        };
        Ok(TakeState {
            session,
            norms,
            lang,
            step,
            answered,
            planned,
            time_left_ms,
        })
    }

    /// Starts the clock of the subtest the device's child is on (`subtest` must be it): the
    /// page calls it when the worked example and the practice items are over.
    ///
    /// # Errors
    /// [`AppError::Ticket`]; `FAILED_PRECONDITION` for another subtest than the current one.
    pub async fn take_start(
        &self,
        peer: Peer,
        device_secret: &str,
        subtest: &str,
    ) -> Result<TakeState, AppError> {
        let (ticket, caller, place) = self.device_ticket(peer, device_secret, "take_start").await?;
        let centre = place.centre.clone();
        let mut audit = self.audit(&caller, "take_start", format!("cohorts/{}", ticket.cohort_id));
        audit.centre(&centre);
        audit.child(&ticket.child_id);
        let result = async {
            usable(&ticket, &device_hash(device_secret))?;
            let session_id = ticket
                .session_id
                .as_deref()
                .ok_or(AppError::Ticket(TicketRefusal::SignedOut))?;
            let state = self
                .take_state_of(self.store.get_session(session_id).await?)
                .await?;
            match &state.step {
                TakeStep::Item { index, .. } if state.norms.battery.subtests[*index].id == subtest => {
                    self.take_contexts.forget_session(session_id);
                    self.store.start_clock(session_id, subtest, now_ms()).await?;
                    self.take_state_of(self.store.get_session(session_id).await?)
                        .await
                }
                _ => Err(AppError::FailedPrecondition(format!(
                    "subtest '{}' is not the current one",
                    subtest.chars().take(64).collect::<String>()
                ))),
            }
        }
        .await;
        self.finish(audit, result).await
    }

    /// Refuses a ticket, audited as a ticket failure of `peer` (with the refusal rate limit of
    /// tokens: too many refusals from one address are `RESOURCE_EXHAUSTED`).
    async fn refuse_ticket<T>(
        &self,
        peer: Peer,
        action: &'static str,
        refusal: TicketRefusal,
    ) -> Result<T, AppError> {
        let caller = take_caller(None, peer.clone());
        let mut audit = self.audit(&caller, action, "tickets");
        audit.detail(refusal.reason());
        let limited = self.ticket_refusals.over_limit(peer.addr.map(|a| a.ip()));
        let error = if limited {
            AppError::Exhausted("too many refused tickets from this address; wait a minute".into())
        } else {
            AppError::Ticket(refusal)
        };
        self.finish(audit, Err(error)).await
    }
}

/// Items the screener gives at most: fixed forms in full, adaptive subtests to their maximum.
pub(crate) fn planned(norms: &NormSet) -> usize {
    norms
        .battery
        .subtests
        .iter()
        .map(|s| s.adaptive.as_ref().map_or(s.items.len(), |a| a.max_items))
        .sum()
}

/// Whether `ticket` may be used by the device hashing to `device`.
fn usable(ticket: &Ticket, device: &str) -> Result<(), AppError> {
    if ticket.revoked_at.is_some() {
        return Err(AppError::Ticket(TicketRefusal::Replaced));
    }
    if let Some(bound) = &ticket.device_hash
        && bound != device
    {
        return Err(AppError::Ticket(TicketRefusal::OtherDevice));
    }
    if now_ms() >= ticket.expires_at {
        return Err(AppError::Ticket(TicketRefusal::Expired));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_count_per_address_and_an_ipv6_host_by_its_64() {
        let r = TicketRefusals::default();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        for _ in 0..MAX_REFUSED_TICKETS {
            assert!(!r.over_limit(Some(a)));
        }
        assert!(
            r.over_limit(Some(b)),
            "another address of the same /64 is the same host"
        );
        assert!(r.blocked(Some(a)) && r.blocked(Some(b)));
        assert!(!r.blocked(Some(other)));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(refusal_key(Some(mapped)), Some(v4));
    }

    #[test]
    fn the_refusal_table_stays_bounded() {
        let r = TicketRefusals::default();
        for i in 0..(REFUSAL_ADDRESSES as u32 + 500) {
            r.over_limit(Some(IpAddr::V4(std::net::Ipv4Addr::from(i))));
        }
        let len = r.0.lock().unwrap().len();
        assert!(len <= REFUSAL_ADDRESSES, "{len}");
    }
}
