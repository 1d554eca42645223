//! Resource names: `children/{id}`, `sessions/{id}`, `batteries/{id}`. An id the store could
//! not have issued (26 lowercase Crockford base32 characters) is refused as bad input before
//! any lookup.

use super::AppError;
use crate::store::PageRequest;

/// Whether `id` has the shape of a store id.
fn store_id(id: &str) -> bool {
    id.len() == 26 && id.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn parse<'a>(collection: &str, name: &'a str, field: &str) -> Result<&'a str, AppError> {
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| store_id(id))
        .ok_or_else(|| AppError::invalid(field, format!("must be {collection}/{{id}}")))
}

/// The id in a child's name `children/{id}` given in `field`.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field` when it is not such a name.
pub fn child_name<'a>(name: &'a str, field: &str) -> Result<&'a str, AppError> {
    parse("children", name, field)
}

/// The id in a session's name `sessions/{id}` given in `field`.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field` when it is not such a name.
pub fn session_name<'a>(name: &'a str, field: &str) -> Result<&'a str, AppError> {
    parse("sessions", name, field)
}

/// The id in a cohort's name `cohorts/{id}` given in `field`.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field` when it is not such a name.
pub fn cohort_name<'a>(name: &'a str, field: &str) -> Result<&'a str, AppError> {
    parse("cohorts", name, field)
}

/// The id in a battery's name `batteries/{id}` given in `field`.
///
/// # Errors
/// `INVALID_ARGUMENT` naming `field` when it is not such a name.
pub fn battery_name<'a>(name: &'a str, field: &str) -> Result<&'a str, AppError> {
    name.strip_prefix("batteries/")
        .filter(|id| !id.is_empty() && id.len() <= 64 && !id.contains('/'))
        .ok_or_else(|| AppError::invalid(field, "must be batteries/{id}"))
}

/// A page request whose cursor is a store id (the `next` of an earlier page) or absent.
///
/// # Errors
/// `INVALID_ARGUMENT` on `page_token` for anything else.
pub fn page_after(page: PageRequest) -> Result<PageRequest, AppError> {
    match &page.after {
        Some(after) if !store_id(after) => Err(AppError::invalid("page_token", "not a token of this list")),
        _ => Ok(page),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_before_any_lookup() {
        let id = "01jd3k4m5n6p7q8r9s0t1v2w3x";
        assert_eq!(child_name(&format!("children/{id}"), "name").unwrap(), id);
        assert_eq!(session_name(&format!("sessions/{id}"), "name").unwrap(), id);
        for bad in [
            "children/".to_owned(),
            format!("sessions/{id}"),
            format!("children/{id}/x"),
            format!("children/{}", id.to_uppercase()),
            format!("children/../{id}"),
            "children/x".to_owned(),
        ] {
            assert!(child_name(&bad, "name").is_err(), "{bad}");
        }
        assert_eq!(
            battery_name("batteries/qabilet-primary-demo", "b").unwrap(),
            "qabilet-primary-demo"
        );
        assert!(battery_name("batteries/a/b", "b").is_err());
    }
}
