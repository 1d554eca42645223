//! Authorization: the one place where an operation meets `auth::policy`. A record is loaded,
//! named in the call's audit row, and checked against the caller's role, centre and subject
//! before anything else is done with it.

use super::audit::Audit;
use super::names::{child_name, session_name};
use super::{App, AppError, Caller};
use crate::auth::policy::{self, Action, Owned};
use crate::store::{Child, Session};

impl App {
    /// Whether `caller` may do `action` on `resource` (see `auth::policy`); `name` is what the
    /// refusal names.
    ///
    /// # Errors
    /// `PERMISSION_DENIED` naming `name`.
    pub(crate) fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        resource: Option<Owned<'_>>,
        name: &str,
    ) -> Result<(), AppError> {
        if policy::allowed(&caller.principal, action, resource) {
            Ok(())
        } else {
            Err(AppError::denied(name))
        }
    }

    /// The child named `name` (given in `field`), if `caller` may do `action` on it.
    pub(crate) async fn child_for(
        &self,
        caller: &Caller,
        name: &str,
        field: &str,
        action: Action,
        audit: &mut Audit,
    ) -> Result<Child, AppError> {
        let id = child_name(name, field)?;
        audit.child(id);
        let child = self.store.get_child(id).await?;
        self.authorize(
            caller,
            action,
            Some(Owned {
                centre: &child.centre,
                owner: &child.owner,
            }),
            name,
        )?;
        Ok(child)
    }

    /// The session named `name` (given in `field`) and its child, if `caller` may do `action`
    /// on it (a session belongs to its child's centre and is owned by its examiner).
    pub(crate) async fn session_for(
        &self,
        caller: &Caller,
        name: &str,
        field: &str,
        action: Action,
        audit: &mut Audit,
    ) -> Result<(Session, Child), AppError> {
        let id = session_name(name, field)?;
        let session = self.store.get_session(id).await?;
        audit.child(&session.child_id);
        let child = self.store.get_child(&session.child_id).await?;
        self.authorize_session(caller, action, &session, &child, name)?;
        Ok((session, child))
    }

    /// Whether `caller` may do `action` on `session` of `child`.
    pub(crate) fn authorize_session(
        &self,
        caller: &Caller,
        action: Action,
        session: &Session,
        child: &Child,
        name: &str,
    ) -> Result<(), AppError> {
        self.authorize(
            caller,
            action,
            Some(Owned {
                centre: &child.centre,
                owner: &session.examiner,
            }),
            name,
        )
    }

    /// Whether `caller` sees de-identified data only.
    pub(crate) fn deidentified(caller: &Caller) -> bool {
        policy::deidentified(&caller.principal)
    }
}
