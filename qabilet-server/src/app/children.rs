//! Children: registering one, reading one, listing those the caller may see. A child is
//! registered in the caller's own centre (a token of every centre names it) and owned by the
//! caller's subject; a researcher reads children de-identified.

use qabilet_core::{Lang, age};

use super::audit::Audit;
use super::fields::{self, ChildCode, CodePrefix, Sex};
use super::idempotency::request_key;
use super::names::page_after;
use super::{App, AppError, Caller};
use crate::auth::policy::{self, ALL_CENTRES, Action, Owned};
use crate::store::{Child, ChildFilter, NewChild, Page, PageRequest, Personal};

/// A child as a caller gives it: every field as text, checked by [`App::create_child`].
#[derive(Debug, Clone, Default)]
pub struct ChildInput {
    /// The centre's pseudonymous code.
    pub code: String,
    /// `yyyy-mm-dd`.
    pub birth_date: String,
    /// `F`, `M` or empty.
    pub sex: String,
    /// `kk`, `ru` or `en`.
    pub test_language: String,
    /// The centre; empty means the caller's own.
    pub centre: String,
    /// Optional personal data (never logged).
    pub given_name: String,
    /// Optional personal data.
    pub family_name: String,
    /// Optional personal data.
    pub notes: String,
}

/// Longest centre name.
const MAX_CENTRE_CHARS: usize = 64;
/// Most children on one page: with every text at its limit a child is under 5 KB in a
/// message, so a full page stays under 1 MB, a quarter of a gRPC client's default 4 MB.
pub const MAX_CHILDREN_PAGE: u32 = 200;

impl App {
    /// Registers a child (see the module docs); a retry with the same `request_id` returns
    /// the child registered by the first attempt.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming the field; `PERMISSION_DENIED` for a role that may not
    /// register children or another centre than the caller's; `ALREADY_EXISTS` for a code
    /// already used in the centre; `INVALID_ARGUMENT` on `request_id` when it was used by
    /// this token for another child.
    pub async fn create_child(
        &self,
        caller: &Caller,
        input: ChildInput,
        request_id: &str,
    ) -> Result<Child, AppError> {
        let mut audit = self.audit(caller, "create_child", "children");
        let result = self.create_child_in(caller, input, request_id, &mut audit).await;
        self.finish(audit, result).await
    }

    async fn create_child_in(
        &self,
        caller: &Caller,
        input: ChildInput,
        request_id: &str,
        audit: &mut Audit,
    ) -> Result<Child, AppError> {
        self.authorize(caller, Action::CreateChild, None, "children")?;
        let code = ChildCode::parse("child.code", &input.code)?;
        let birth = age::parse_date(input.birth_date.trim())
            .map_err(|e| AppError::invalid("child.birth_date", e.to_string()))?;
        let sex = Sex::parse("child.sex", &input.sex)?;
        let lang: Lang = input
            .test_language
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("child.test_language", "must be kk, ru or en"))?;
        let centre = self.centre_of_new(caller, "child.centre", &input.centre)?;
        let given = fields::person_name("child.given_name", &input.given_name)?;
        let family = fields::person_name("child.family_name", &input.family_name)?;
        let notes = fields::free_text("child.notes", &input.notes, fields::MAX_NOTES_CHARS)?;
        let owner = caller.principal.subject.clone();
        self.authorize(
            caller,
            Action::CreateChild,
            Some(Owned {
                centre: &centre,
                owner: &owner,
            }),
            &format!("children in centre '{centre}'"),
        )?;
        let birth = birth.to_string();
        let request = request_key(
            caller,
            fields::request_id(request_id)?,
            "create_child",
            &[
                code.as_str(),
                &birth,
                sex.map_or("", Sex::as_str),
                lang.code(),
                &centre,
                given.as_deref().unwrap_or(""),
                family.as_deref().unwrap_or(""),
                notes.as_deref().unwrap_or(""),
            ],
        );
        let created = self
            .store
            .create_child(NewChild {
                code: code.as_str().to_owned(),
                birth_date: birth,
                sex: sex.map(|s| s.as_str().to_owned()),
                test_language: lang.code().to_owned(),
                centre,
                owner,
                given_name: given.map(Personal::new),
                family_name: family.map(Personal::new),
                notes: notes.map(Personal::new),
                request,
            })
            .await?;
        let child = created.record;
        audit.resource(format!("children/{}", child.id));
        audit.child(&child.id);
        if created.existed {
            audit.detail("retry: the child registered by the first attempt");
        }
        Ok(view(caller, child))
    }

    /// The centre a new child is registered in: the one named, else the caller's own (a
    /// token of every centre must name one).
    /// The centre a new record (a child, a cohort) asked for in `field` goes to: the caller's
    /// own when `asked` is blank.
    pub(crate) fn centre_of_new(
        &self,
        caller: &Caller,
        field: &str,
        asked: &str,
    ) -> Result<String, AppError> {
        let own = &caller.principal.centre;
        let asked = asked.trim();
        if asked.is_empty() {
            return if own == ALL_CENTRES {
                Err(AppError::invalid(
                    field,
                    "required: this token belongs to every centre, so the centre must be named",
                ))
            } else {
                Ok(own.clone())
            };
        }
        if asked == ALL_CENTRES
            || asked.chars().count() > MAX_CENTRE_CHARS
            || asked.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(AppError::invalid(
                field,
                format!(
                    "a centre name: 1 to {MAX_CENTRE_CHARS} characters, no spaces or control characters, not '*'"
                ),
            ));
        }
        // Whether the caller may create a record there is the policy's (checked next).
        Ok(asked.to_owned())
    }

    /// The child named `name`, as `caller` may see it.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed name, `NOT_FOUND`, `PERMISSION_DENIED`.
    pub async fn get_child(&self, caller: &Caller, name: &str) -> Result<Child, AppError> {
        let mut audit = self.audit(caller, "get_child", name);
        let result = self
            .child_for(caller, name, "name", Action::ReadChild, &mut audit)
            .await
            .map(|c| view(caller, c));
        self.finish(audit, result).await
    }

    /// One page of the children `caller` may see whose code starts with `code_prefix`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a prefix no code can have or a foreign page token;
    /// `PERMISSION_DENIED` for a role that may not list children.
    pub async fn list_children(
        &self,
        caller: &Caller,
        code_prefix: &str,
        page: PageRequest,
    ) -> Result<Page<Child>, AppError> {
        let mut audit = self.audit(caller, "list_children", "children");
        let result = self.list_children_in(caller, code_prefix, page, &mut audit).await;
        self.finish(audit, result).await
    }

    async fn list_children_in(
        &self,
        caller: &Caller,
        code_prefix: &str,
        page: PageRequest,
        audit: &mut Audit,
    ) -> Result<Page<Child>, AppError> {
        self.authorize(caller, Action::ListChildren, None, "children")?;
        let prefix = CodePrefix::parse("code_prefix", code_prefix)?;
        let mut page = page_after(page)?;
        page.size = match page.size {
            0 => crate::store::DEFAULT_PAGE_SIZE.min(MAX_CHILDREN_PAGE),
            n => n.min(MAX_CHILDREN_PAGE),
        };
        let (centre, owner) = policy::list_scope(&caller.principal);
        let found = self
            .store
            .list_children(
                ChildFilter {
                    centre,
                    owner,
                    code_prefix: (!prefix.as_str().is_empty()).then(|| prefix.as_str().to_owned()),
                },
                page,
            )
            .await?;
        audit.detail(listed(found.items.iter().map(|c| c.id.as_str())));
        Ok(Page {
            items: found.items.into_iter().map(|c| view(caller, c)).collect(),
            next: found.next,
        })
    }
}

/// A child as `caller` may see it: de-identified for a researcher.
fn view(caller: &Caller, mut child: Child) -> Child {
    if App::deidentified(caller) {
        policy::deidentify_child(&mut child);
    }
    child
}

/// The audit detail of a list: how many and which ids (never personal data).
pub(crate) fn listed<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let ids: Vec<&str> = ids.collect();
    format!("listed {}: {}", ids.len(), ids.join(" "))
}
