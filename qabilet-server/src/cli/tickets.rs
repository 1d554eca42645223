//! `qabilet tickets`: issue a cohort's one-time tickets and write the sheets to print (CSV,
//! or PDF with a card and a QR code per child).

use clap::{Args, ValueEnum};

use super::operator::{OperatorArgs, app_error, with_app};
use super::roster::{cohort_name, write_output};
use crate::app::{Caller, IssuedTicket};
use crate::error::CliError;
use crate::store::Personal;
use crate::tickets::{sheets, ticket_sheets_pdf, ticket_url};
use qabilet_core::Lang;

/// `qabilet tickets --help`.
pub(super) const LONG_ABOUT: &str = "\
Issue one-time tickets to the children of a cohort who have not signed in yet, and write the
sheets to print: one card per child with the child's code, name, class, ticket and a QR
code of the sign-in address (--url, the console's /take page).

Each run issues new tickets and revokes the earlier unused ones of the same children: the
sheet printed last is the one that works. A child who has signed in keeps the ticket bound
to that device. Tickets stop working the day after the cohort's last day. The database keeps
only a hash of each ticket: a lost sheet cannot be reprinted, only reissued.

Exit codes: 0 done; 1 the database failed or the output could not be written; 2 bad input.

Example:
  qabilet tickets --cohort cohorts/01j… --format pdf --output class-2a.pdf --class 2А";

/// Format of the sheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TicketFormat {
    /// One row per child: class, code, given_name, family_name, ticket, url.
    Csv,
    /// A4 pages per class with a cut-out card and QR code per child.
    Pdf,
}

/// Arguments of `qabilet tickets`.
#[derive(Debug, Args)]
pub struct TicketsArgs {
    #[command(flatten)]
    operator: OperatorArgs,
    /// The cohort, as `cohorts/ID` (or the bare id).
    #[arg(long, value_name = "COHORT")]
    cohort: String,
    /// Only this class.
    #[arg(long, value_name = "CLASS", default_value = "")]
    class: String,
    /// Format of the sheets.
    #[arg(long, value_enum, default_value = "csv")]
    format: TicketFormat,
    /// Where to write them; - for standard output.
    #[arg(long, value_name = "FILE", default_value = "-")]
    output: String,
    /// The address children open to sign in (the console's /take page), put in each QR code
    /// with the ticket.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080/take")]
    url: String,
    /// Language of the PDF's labels [default: the cohort's language of instruction].
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
}

/// Runs `qabilet tickets`.
pub fn run(args: &TicketsArgs) -> Result<(), CliError> {
    if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
        return Err(CliError::Usage(
            "--url: must start with http:// or https://".into(),
        ));
    }
    with_app(&args.operator, async |app| {
        let (cohort, issued) = app
            .issue_tickets(&Caller::operator(), &cohort_name(&args.cohort), &args.class)
            .await
            .map_err(|e| app_error(std::path::Path::new(&args.cohort), e))?;
        let bytes = match args.format {
            TicketFormat::Csv => tickets_csv(&issued, &args.url),
            TicketFormat::Pdf => {
                let lang = match &args.lang {
                    Some(l) => l
                        .parse::<Lang>()
                        .map_err(|_| CliError::Usage("--lang: kk, ru or en".into()))?,
                    None => cohort.language.parse::<Lang>().unwrap_or(Lang::Kk),
                };
                tickets_pdf(&cohort.name, &issued, &args.url, lang)?
            }
        };
        write_output(&args.output, &bytes)?;
        eprintln!("qabilet: {} ticket(s) issued", issued.len());
        Ok(())
    })
}

/// The sheets as a PDF.
fn tickets_pdf(cohort: &str, issued: &[IssuedTicket], base: &str, lang: Lang) -> Result<Vec<u8>, CliError> {
    if issued.is_empty() {
        return Err(CliError::Usage(
            "no tickets to print: every child of the cohort (or class) has signed in already".into(),
        ));
    }
    ticket_sheets_pdf(&sheets(cohort, issued, base), lang)
        .map_err(|e| CliError::Usage(format!("tickets: {e}")))
}

fn tickets_csv(issued: &[IssuedTicket], base: &str) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(["class", "code", "given_name", "family_name", "ticket", "url"]);
    for t in issued {
        let _ = w.write_record([
            t.class.as_str(),
            &t.code,
            t.given_name.as_ref().map_or("", Personal::as_str),
            t.family_name.as_ref().map_or("", Personal::as_str),
            &t.ticket,
            &ticket_url(base, &t.ticket),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
