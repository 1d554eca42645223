//! The screening operations, written once for both backends over a [`Conn`] (see
//! `screening.rs` for what each does and `ops.rs` for the idempotency pattern they share).

use super::conn::{Conn, Statement};
use super::error::db;
use super::rows::Get;
use super::screening::{
    Cohort, CohortFilter, NewCohort, NewTicket, RosterCounts, RosterImport, RosterMember, RosterOutcome,
    RosterRow, RowConflict, SubtestClock, Ticket,
};
use super::screening_sql as sql;
use super::{Created, Page, PageRequest, Personal, StoreError, new_id, now_ms};

fn cohort(r: &impl Get) -> Result<Cohort, StoreError> {
    Ok(Cohort {
        id: r.text("id")?,
        centre: r.text("centre")?,
        owner: r.text("owner")?,
        name: r.text("name")?,
        region: r.text("region")?,
        district: r.text("district")?,
        institution: r.text("institution")?,
        institution_kind: r.text("institution_kind")?,
        locality: r.text("locality")?,
        grade: r.int("grade")?,
        language: r.text("language")?,
        battery_id: r.text("battery_id")?,
        starts_on: r.text("starts_on")?,
        ends_on: r.text("ends_on")?,
        created_at: r.int("created_at")?,
    })
}

pub(crate) fn ticket(r: &impl Get) -> Result<Ticket, StoreError> {
    Ok(Ticket {
        secret_hash: r.text("secret_hash")?,
        cohort_id: r.text("cohort_id")?,
        child_id: r.text("child_id")?,
        issued_at: r.int("issued_at")?,
        expires_at: r.int("expires_at")?,
        revoked_at: r.opt_int("revoked_at")?,
        device_hash: r.opt_text("device_hash")?,
        session_id: r.opt_text("session_id")?,
        claimed_at: r.opt_int("claimed_at")?,
    })
}

fn member(r: &impl Get) -> Result<RosterMember, StoreError> {
    Ok(RosterMember {
        child_id: r.text("child_id")?,
        code: r.text("code")?,
        given_name: r.opt_text("given_name")?.map(Personal::new),
        family_name: r.opt_text("family_name")?.map(Personal::new),
        birth_date: r.text("birth_date")?,
        sex: r.opt_text("sex")?,
        test_language: r.text("test_language")?,
        class: r.text("class")?,
        iin_linked: r.int("iin_linked")? != 0,
        line: u64::try_from(r.int("line")?).unwrap_or(0),
    })
}

pub(crate) async fn create_cohort<C: Conn>(
    c: &mut C,
    new: &NewCohort,
) -> Result<Created<Cohort>, StoreError> {
    let key = new.request.as_ref();
    if let Some(key) = key
        && let Some(found) = super::ops::stored_under(c, sql::COHORT_BY_KEY, key, "cohort", cohort).await?
    {
        return Ok(found);
    }
    let id = new_id();
    let inserted = c
        .fetch_optional(
            super::ops::with_key(
                Statement::new(sql::INSERT_COHORT)
                    .text(&id)
                    .text(&new.centre)
                    .text(&new.owner)
                    .text(&new.name)
                    .text(&new.region)
                    .text(&new.district)
                    .text(&new.institution)
                    .text(&new.institution_kind)
                    .text(&new.locality)
                    .int(new.grade)
                    .text(&new.language)
                    .text(&new.battery_id)
                    .text(&new.starts_on)
                    .text(&new.ends_on),
                key,
            )
            .opt_text(key.map(|k| k.fingerprint.as_str()))
            .int(now_ms()),
        )
        .await
        .map_err(db("creating cohort"))?;
    match inserted {
        Some(row) => Ok(Created {
            record: cohort(&row)?,
            existed: false,
        }),
        None => {
            let lost = StoreError::Backend("creating cohort: nothing inserted and nothing stored".into());
            super::ops::stored_or(c, sql::COHORT_BY_KEY, key, "cohort", cohort, lost).await
        }
    }
}

pub(crate) async fn get_cohort<C: Conn>(c: &mut C, id: &str) -> Result<Cohort, StoreError> {
    c.fetch_optional(Statement::new(sql::COHORT_BY_ID).text(id))
        .await
        .map_err(db("reading cohort"))?
        .map(|r| cohort(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound {
            what: "cohort",
            id: id.to_owned(),
        })
}

pub(crate) async fn list_cohorts<C: Conn>(
    c: &mut C,
    filter: &CohortFilter,
    page: &PageRequest,
) -> Result<Page<Cohort>, StoreError> {
    let size = page.effective_size();
    let rows = c
        .fetch_all(
            Statement::new(sql::COHORTS_PAGE)
                .opt_text(filter.centre.as_deref())
                .opt_text(filter.owner.as_deref())
                .opt_text(page.after.as_deref())
                .int(i64::from(size) + 1),
        )
        .await
        .map_err(db("listing cohorts"))?;
    let items = rows.iter().map(cohort).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, size, |c| &c.id))
}

/// Imports the roster on `c`, which must be a write transaction the caller commits only on
/// [`RosterOutcome::Imported`].
pub(crate) async fn import_roster<C: Conn>(
    c: &mut C,
    import: &RosterImport,
) -> Result<RosterOutcome, StoreError> {
    get_cohort(c, &import.cohort_id).await?;
    let now = now_ms();
    let mut counts = RosterCounts::default();
    let mut conflicts = Vec::new();
    for row in &import.rows {
        match import_row(c, import, row, now, &mut counts).await? {
            Ok(()) => {}
            Err(mut found) => conflicts.append(&mut found),
        }
    }
    Ok(if conflicts.is_empty() {
        RosterOutcome::Imported(counts)
    } else {
        RosterOutcome::Rejected(conflicts)
    })
}

/// One row: the child found by code (and checked) or registered, then placed in the cohort.
async fn import_row<C: Conn>(
    c: &mut C,
    import: &RosterImport,
    row: &RosterRow,
    now: i64,
    counts: &mut RosterCounts,
) -> Result<Result<(), Vec<RowConflict>>, StoreError> {
    let conflict = |column: &'static str, reason: String| RowConflict {
        line: row.line,
        column,
        reason,
    };
    let stored = c
        .fetch_optional(
            Statement::new(sql::ROSTER_CHILD_BY_CODE)
                .text(&import.centre)
                .text(&row.code),
        )
        .await
        .map_err(db("reading a roster's child"))?;
    let mut changed = false;
    let child_id = if let Some(stored) = stored {
        if !import.enrol_any_owner && stored.text("owner")? != import.owner {
            return Ok(Err(vec![conflict(
                "code",
                "is in use in this centre for a child registered by someone else".into(),
            )]));
        }
        let mut found = Vec::new();
        if stored.text("birth_date")? != row.birth_date {
            found.push(conflict(
                "birth_date",
                "differs from the birth date registered for this code in the centre".into(),
            ));
        }
        if stored.opt_text("sex")? != row.sex {
            found.push(conflict(
                "sex",
                "differs from the sex registered for this code in the centre".into(),
            ));
        }
        let stored_iin = stored.opt_text("iin_hash")?;
        if let (Some(a), Some(b)) = (&stored_iin, &row.iin_hash)
            && a != b
        {
            found.push(conflict(
                "iin",
                "differs from the IIN registered for this code in the centre".into(),
            ));
        }
        for (column, stored, given) in [
            ("given_name", stored.opt_text("given_name")?, &row.given_name),
            ("family_name", stored.opt_text("family_name")?, &row.family_name),
        ] {
            if let (Some(a), Some(b)) = (&stored, given)
                && a != b.as_str()
            {
                found.push(conflict(
                    column,
                    "differs from the name registered for this code in the centre".into(),
                ));
            }
        }
        if stored_iin.is_none()
            && let Some(hash) = &row.iin_hash
            && iin_held(c, &import.centre, hash).await?
        {
            found.push(conflict(
                "iin",
                "is registered in this centre for another child".into(),
            ));
        }
        if !found.is_empty() {
            return Ok(Err(found));
        }
        let id = stored.text("id")?;
        let fills = (stored.opt_text("given_name")?.is_none() && row.given_name.is_some())
            || (stored.opt_text("family_name")?.is_none() && row.family_name.is_some())
            || (stored_iin.is_none() && row.iin_hash.is_some());
        if fills {
            c.execute(
                Statement::new(sql::FILL_ROSTER_CHILD)
                    .text(&id)
                    .opt_text(row.given_name.as_ref().map(Personal::as_str))
                    .opt_text(row.family_name.as_ref().map(Personal::as_str))
                    .opt_text(row.iin_hash.as_deref()),
            )
            .await
            .map_err(db("completing a roster's child"))?;
            counts.children_updated += 1;
            changed = true;
        }
        id
    } else {
        if let Some(hash) = &row.iin_hash
            && iin_held(c, &import.centre, hash).await?
        {
            return Ok(Err(vec![conflict(
                "iin",
                "is registered in this centre for another child".into(),
            )]));
        }
        let id = new_id();
        c.execute(
            Statement::new(sql::INSERT_ROSTER_CHILD)
                .text(&id)
                .text(&row.code)
                .text(&row.birth_date)
                .opt_text(row.sex.as_deref())
                .text(&row.test_language)
                .text(&import.centre)
                .text(&import.owner)
                .opt_text(row.given_name.as_ref().map(Personal::as_str))
                .opt_text(row.family_name.as_ref().map(Personal::as_str))
                .opt_text(row.iin_hash.as_deref())
                .int(now),
        )
        .await
        .map_err(|e| {
            if super::error::is_unique_violation(&e) {
                StoreError::Conflict {
                    detail: "another import registered the same child at the same time; import again".into(),
                }
            } else {
                StoreError::backend("registering a roster's child", e)
            }
        })?;
        counts.children_created += 1;
        changed = true;
        id
    };
    let line = i64::try_from(row.line).unwrap_or(i64::MAX);
    let class = c
        .fetch_optional(
            Statement::new(sql::MEMBER_CLASS)
                .text(&import.cohort_id)
                .text(&child_id),
        )
        .await
        .map_err(db("reading a cohort member"))?;
    match class {
        None => {
            c.execute(
                Statement::new(sql::INSERT_MEMBER)
                    .text(&import.cohort_id)
                    .text(&child_id)
                    .text(&row.class)
                    .int(line)
                    .int(now),
            )
            .await
            .map_err(db("adding a cohort member"))?;
            counts.members_added += 1;
        }
        Some(stored) if stored.text("class")? != row.class => {
            c.execute(
                Statement::new(sql::MOVE_MEMBER)
                    .text(&import.cohort_id)
                    .text(&child_id)
                    .text(&row.class)
                    .int(line),
            )
            .await
            .map_err(db("moving a cohort member"))?;
            counts.members_moved += 1;
        }
        Some(_) if !changed => counts.unchanged += 1,
        Some(_) => {}
    }
    Ok(Ok(()))
}

/// Whether a child of `centre` holds `iin_hash` (which one is not said: the importer may not
/// be allowed to read it).
async fn iin_held<C: Conn>(c: &mut C, centre: &str, iin_hash: &str) -> Result<bool, StoreError> {
    Ok(
        c.fetch_optional(Statement::new(sql::IIN_HELD).text(centre).text(iin_hash))
            .await
            .map_err(db("looking up an IIN hash"))?
            .is_some(),
    )
}

pub(crate) async fn roster<C: Conn>(c: &mut C, cohort_id: &str) -> Result<Vec<RosterMember>, StoreError> {
    get_cohort(c, cohort_id).await?;
    c.fetch_all(Statement::new(sql::ROSTER).text(cohort_id))
        .await
        .map_err(db("reading a roster"))?
        .iter()
        .map(member)
        .collect()
}

/// Issues the tickets on `c`, a write transaction the caller commits.
pub(crate) async fn issue_tickets<C: Conn>(
    c: &mut C,
    cohort_id: &str,
    tickets: &[NewTicket],
) -> Result<Vec<String>, StoreError> {
    get_cohort(c, cohort_id).await?;
    let now = now_ms();
    let mut issued = Vec::with_capacity(tickets.len());
    for t in tickets {
        c.execute(
            Statement::new(sql::REVOKE_UNUSED_TICKETS)
                .text(cohort_id)
                .text(&t.child_id)
                .int(now),
        )
        .await
        .map_err(db("revoking unused tickets"))?;
        let inserted = c
            .execute(
                Statement::new(sql::INSERT_TICKET)
                    .text(&t.secret_hash)
                    .text(cohort_id)
                    .text(&t.child_id)
                    .int(now)
                    .int(t.expires_at),
            )
            .await
            .map_err(db("issuing a ticket"))?;
        // Not a member, or signed in meanwhile with an earlier ticket: no new one.
        if inserted > 0 {
            issued.push(t.child_id.clone());
        }
    }
    Ok(issued)
}

pub(crate) async fn cohort_tickets<C: Conn>(c: &mut C, cohort_id: &str) -> Result<Vec<Ticket>, StoreError> {
    c.fetch_all(Statement::new(sql::COHORT_TICKETS).text(cohort_id))
        .await
        .map_err(db("reading a cohort's tickets"))?
        .iter()
        .map(ticket)
        .collect()
}

pub(crate) async fn ticket_by_hash<C: Conn>(
    c: &mut C,
    secret_hash: &str,
) -> Result<Option<Ticket>, StoreError> {
    c.fetch_optional(Statement::new(sql::TICKET_BY_HASH).text(secret_hash))
        .await
        .map_err(db("reading a ticket"))?
        .map(|r| ticket(&r))
        .transpose()
}

pub(crate) async fn ticket_by_device<C: Conn>(
    c: &mut C,
    device_hash: &str,
) -> Result<Option<Ticket>, StoreError> {
    c.fetch_optional(Statement::new(sql::TICKET_BY_DEVICE).text(device_hash))
        .await
        .map_err(db("reading a device's ticket"))?
        .map(|r| ticket(&r))
        .transpose()
}

pub(crate) async fn claim_ticket<C: Conn>(
    c: &mut C,
    secret_hash: &str,
    device_hash: &str,
    at: i64,
) -> Result<Option<Ticket>, StoreError> {
    // A device secret is random: two tickets never share one (the unique index would refuse).
    c.execute(
        Statement::new(sql::CLAIM_TICKET)
            .text(secret_hash)
            .text(device_hash)
            .int(at),
    )
    .await
    .map_err(db("claiming a ticket"))?;
    ticket_by_hash(c, secret_hash).await
}

pub(crate) async fn attach_ticket_session<C: Conn>(
    c: &mut C,
    secret_hash: &str,
    session_id: &str,
) -> Result<Ticket, StoreError> {
    c.execute(
        Statement::new(sql::ATTACH_TICKET_SESSION)
            .text(secret_hash)
            .text(session_id),
    )
    .await
    .map_err(db("recording a ticket's session"))?;
    ticket_by_hash(c, secret_hash)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "ticket",
            id: "(by hash)".into(),
        })
}

pub(crate) async fn start_clock<C: Conn>(
    c: &mut C,
    session_id: &str,
    subtest: &str,
    at: i64,
) -> Result<Vec<SubtestClock>, StoreError> {
    c.execute(
        Statement::new(sql::START_CLOCK)
            .text(session_id)
            .text(subtest)
            .int(at),
    )
    .await
    .map_err(db("starting a subtest clock"))?;
    clocks(c, session_id).await
}

pub(crate) async fn clocks<C: Conn>(c: &mut C, session_id: &str) -> Result<Vec<SubtestClock>, StoreError> {
    c.fetch_all(Statement::new(sql::CLOCKS).text(session_id))
        .await
        .map_err(db("reading subtest clocks"))?
        .iter()
        .map(clock)
        .collect()
}

/// A subtest clock from its row.
pub(crate) fn clock(r: &impl Get) -> Result<SubtestClock, StoreError> {
    Ok(SubtestClock {
        subtest: r.text("subtest")?,
        started_at: r.int("started_at")?,
        extra_seconds: r.int("extra_seconds")?,
    })
}

pub(crate) async fn extend_clock<C: Conn>(
    c: &mut C,
    session_id: &str,
    subtest: &str,
    seconds: i64,
) -> Result<bool, StoreError> {
    let n = c
        .execute(
            Statement::new(sql::EXTEND_CLOCK)
                .text(session_id)
                .text(subtest)
                .int(seconds),
        )
        .await
        .map_err(db("extending a subtest clock"))?;
    Ok(n > 0)
}
