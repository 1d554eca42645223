//! The catalog: the batteries the server loaded, with their norm sets, one page at a time.

use std::sync::Arc;

use qabilet_core::NormSet;

use super::names::battery_name;
use super::{App, AppError, Caller};
use crate::auth::policy::Action;

/// Default page size of the battery list.
pub const DEFAULT_BATTERY_PAGE: usize = 50;
/// Largest page size of the battery list (larger requests get this many).
pub const MAX_BATTERY_PAGE: usize = 500;

/// A page of batteries and the token of the next one (the last battery id), if any.
#[derive(Debug, Clone)]
pub struct BatteryPage {
    /// The batteries, by id.
    pub batteries: Vec<Arc<NormSet>>,
    /// The last battery id of this page when more follow.
    pub next: Option<String>,
}

impl App {
    /// Up to `size` batteries (0: the default) after battery id `after`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a page token this server did not issue.
    pub async fn list_batteries(
        &self,
        caller: &Caller,
        size: usize,
        after: &str,
    ) -> Result<BatteryPage, AppError> {
        let audit = self.audit_failures(caller, "list_batteries", "batteries");
        let result = self.list_batteries_in(caller, size, after);
        self.finish(audit, result).await
    }

    fn list_batteries_in(&self, caller: &Caller, size: usize, after: &str) -> Result<BatteryPage, AppError> {
        self.authorize(caller, Action::ReadCatalog, None, "batteries")?;
        let size = match size {
            0 => DEFAULT_BATTERY_PAGE,
            n => n.min(MAX_BATTERY_PAGE),
        };
        if !after.is_empty() && self.registry.get(after).is_none() {
            return Err(AppError::invalid("page_token", "not a token this server issued"));
        }
        let mut batteries: Vec<Arc<NormSet>> = self
            .registry
            .iter()
            .filter(|(id, _)| after.is_empty() || id.as_str() > after)
            .take(size + 1)
            .map(|(_, n)| n.clone())
            .collect();
        let next = if batteries.len() > size {
            batteries.truncate(size);
            batteries.last().map(|b| b.battery.id.clone())
        } else {
            None
        };
        Ok(BatteryPage { batteries, next })
    }

    /// The battery named `name` (`batteries/{id}`).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed name, `NOT_FOUND` for a battery not loaded.
    pub async fn get_battery(&self, caller: &Caller, name: &str) -> Result<Arc<NormSet>, AppError> {
        let audit = self.audit_failures(caller, "get_battery", name);
        let result = self
            .authorize(caller, Action::ReadCatalog, None, name)
            .and_then(|()| self.battery(name, "name"));
        self.finish(audit, result).await
    }

    /// The loaded battery named `name`, given in `field` (no authorization: for operations
    /// that checked theirs).
    pub(crate) fn battery(&self, name: &str, field: &str) -> Result<Arc<NormSet>, AppError> {
        let id = battery_name(name, field)?;
        self.registry.get(id).cloned().ok_or_else(|| AppError::NotFound {
            what: "battery",
            name: name.to_owned(),
        })
    }
}
