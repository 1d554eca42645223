//! `qabilet cohort …`: create and list screening cohorts, directly in the service's database.

use std::path::Path;

use clap::{Args, Subcommand};

use super::operator::{OperatorArgs, app_error, with_app};
use crate::app::{Caller, CohortInput};
use crate::error::CliError;
use crate::store::{PageRequest, rfc3339};

/// `qabilet cohort --help`.
pub(super) const LONG_ABOUT: &str = "\
Create and list screening cohorts (stage 1): a campaign in one school or institution and
grade, with its region and district, the kind of institution (school, kindergarten, boarding,
family_village), urban or rural, the language of instruction and its dates. Children join a
cohort through its roster (qabilet roster import); a child may be in several cohorts.

Exit codes: 0 done; 1 the database failed; 2 bad input.

Example:
  qabilet cohort create --centre almaty-1 --owner psy-aliya --name 'School 12, grade 2' \\
    --region Almaty --district Bostandyq --institution 'School 12' --kind school \\
    --locality urban --grade 2 --language kk --starts-on 2027-03-01 --ends-on 2027-03-05";

/// `qabilet cohort …`.
#[derive(Debug, Subcommand)]
pub enum CohortCommand {
    /// Create a cohort and print its id (`cohorts/ID`).
    Create(Box<CreateArgs>),
    /// List cohorts as CSV: id, centre, owner, name, region, district, institution, kind,
    /// locality, grade, language, battery, starts_on, ends_on, created.
    List(OperatorArgs),
    /// Write the cohort's results as CSV: per child its status, answers and, once finished,
    /// the screening index with its interval, national and local percentiles.
    Results(ResultsArgs),
}

/// Arguments of `qabilet cohort results`.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    #[command(flatten)]
    operator: OperatorArgs,
    /// The cohort, as `cohorts/ID` (or the bare id).
    #[arg(long, value_name = "COHORT")]
    cohort: String,
    /// Only this class.
    #[arg(long, value_name = "CLASS", default_value = "")]
    class: String,
    /// Where to write the CSV; - for standard output.
    #[arg(long, value_name = "FILE", default_value = "-")]
    output: String,
}

/// Arguments of `qabilet cohort create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    operator: OperatorArgs,
    /// The centre running the campaign, e.g. almaty-1.
    #[arg(long, value_name = "CENTRE")]
    centre: String,
    /// The subject who organises and proctors it (a token's subject, e.g. psy-aliya).
    #[arg(long, value_name = "SUBJECT")]
    owner: String,
    /// A short name, e.g. 'School 12, grade 2, spring 2027'.
    #[arg(long)]
    name: String,
    /// Region (oblys or city).
    #[arg(long)]
    region: String,
    /// District.
    #[arg(long)]
    district: String,
    /// The school or institution.
    #[arg(long)]
    institution: String,
    /// Kind of institution: school, kindergarten, boarding or family_village.
    #[arg(long, value_name = "KIND")]
    kind: String,
    /// urban or rural.
    #[arg(long)]
    locality: String,
    /// Grade, 0 (pre-school) to 11.
    #[arg(long)]
    grade: i64,
    /// Language of instruction: kk, ru or en.
    #[arg(long, value_name = "LANG")]
    language: String,
    /// The screener battery the cohort takes.
    #[arg(long, value_name = "ID", default_value = "qabilet-screener-demo")]
    battery: String,
    /// First day, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    starts_on: String,
    /// Last day, YYYY-MM-DD (tickets stop working the day after).
    #[arg(long, value_name = "DATE")]
    ends_on: String,
    /// A request id: running the same command again with it creates nothing new.
    #[arg(long, value_name = "ID", default_value = "")]
    request_id: String,
}

/// Runs `qabilet cohort …`.
pub fn run(command: &CohortCommand) -> Result<(), CliError> {
    let here = Path::new("cohort");
    match command {
        CohortCommand::Create(args) => with_app(&args.operator, async |app| {
            let input = CohortInput {
                name: args.name.clone(),
                centre: args.centre.clone(),
                owner: args.owner.clone(),
                region: args.region.clone(),
                district: args.district.clone(),
                institution: args.institution.clone(),
                institution_kind: args.kind.clone(),
                locality: args.locality.clone(),
                grade: args.grade,
                language: args.language.clone(),
                battery: format!("batteries/{}", args.battery),
                starts_on: args.starts_on.clone(),
                ends_on: args.ends_on.clone(),
            };
            let cohort = app
                .create_cohort(&Caller::operator(), input, &args.request_id)
                .await
                .map_err(|e| app_error(here, e))?;
            println!("cohorts/{}", cohort.id);
            Ok(())
        }),
        CohortCommand::Results(args) => with_app(&args.operator, async |app| {
            let progress = app
                .cohort_progress(
                    &Caller::operator(),
                    &super::roster::cohort_name(&args.cohort),
                    &args.class,
                )
                .await
                .map_err(|e| app_error(here, e))?;
            super::roster::write_output(&args.output, &crate::app::cohort_results_csv(&progress))
        }),
        CohortCommand::List(args) => with_app(args, async |app| {
            let stdout = std::io::stdout();
            let mut out = csv::Writer::from_writer(stdout.lock());
            let write_err = |e: csv::Error| CliError::write("standard output", std::io::Error::other(e));
            out.write_record([
                "id",
                "centre",
                "owner",
                "name",
                "region",
                "district",
                "institution",
                "kind",
                "locality",
                "grade",
                "language",
                "battery",
                "starts_on",
                "ends_on",
                "created",
            ])
            .map_err(write_err)?;
            let mut page = PageRequest::first(500);
            loop {
                let found = app
                    .list_cohorts(&Caller::operator(), page.clone())
                    .await
                    .map_err(|e| app_error(here, e))?;
                for c in &found.items {
                    out.write_record([
                        format!("cohorts/{}", c.id).as_str(),
                        &c.centre,
                        &c.owner,
                        &c.name,
                        &c.region,
                        &c.district,
                        &c.institution,
                        &c.institution_kind,
                        &c.locality,
                        &c.grade.to_string(),
                        &c.language,
                        &c.battery_id,
                        &c.starts_on,
                        &c.ends_on,
                        &rfc3339(c.created_at),
                    ])
                    .map_err(write_err)?;
                }
                match found.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            out.flush().map_err(|e| CliError::write("standard output", e))
        }),
    }
}
