//! The credential report: a CSV of the root user and every IAM user with their password, MFA,
//! access key and signing certificate state, made by GenerateCredentialReport and kept (as AWS
//! does) for four hours, after which GetCredentialReport answers `ReportExpired`.

use crate::generated::types::*;
use crate::state::{self, AccessKey, Account, SigningCert};
use crate::{Iam, account, ids};
use http::StatusCode;
use ruststack_core::protocol::scalar::format_timestamp;
use ruststack_core::shape::TimestampFormat;
use ruststack_core::{AwsError, Blob, RequestContext, Timestamp};
use std::fmt::Write;
use std::sync::Arc;

const LIFETIME_MILLIS: i64 = 4 * 3_600_000;
const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// ISO 8601 with an explicit offset, as the report writes dates.
fn date(t: Timestamp) -> String {
    let iso = format_timestamp(t.millis as f64 / 1000.0, TimestampFormat::Iso8601);
    format!("{}+00:00", iso.get(..19).unwrap_or(&iso))
}

fn key_columns(out: &mut String, key: Option<&AccessKey>) {
    match key {
        Some(k) => {
            let _ = write!(out, ",{},{},N/A,N/A,N/A", k.active, date(k.created));
        }
        None => out.push_str(",false,N/A,N/A,N/A,N/A"),
    }
}

fn cert_columns(out: &mut String, cert: Option<&SigningCert>) {
    match cert {
        Some(c) => {
            let _ = write!(out, ",{},{}", c.active, date(c.uploaded));
        }
        None => out.push_str(",false,N/A"),
    }
}

fn csv(a: &Account) -> String {
    let mut out = String::from(HEADER);
    let _ = write!(
        out,
        "\n<root_account>,arn:aws:iam::{}:root,{},not_supported,no_information,not_supported,not_supported,false",
        a.id,
        date(a.created)
    );
    key_columns(&mut out, a.root_keys.first());
    key_columns(&mut out, a.root_keys.get(1));
    cert_columns(&mut out, a.root_certs.first());
    cert_columns(&mut out, a.root_certs.get(1));
    let max_age = a.password_policy.as_ref().and_then(|p| p.max_age);
    for u in a.users.values() {
        let (enabled, used, changed, next) = match &u.login {
            Some(l) => {
                let next = max_age.map_or("N/A".to_owned(), |days| {
                    date(Timestamp { millis: l.created.millis + i64::from(days) * 86_400_000 })
                });
                ("true", "no_information", date(l.created), next)
            }
            None => ("false", "N/A", "N/A".to_owned(), "N/A".to_owned()),
        };
        let _ = write!(
            out,
            "\n{},{},{},{enabled},{used},{changed},{next},{}",
            u.name,
            a.arn("user", &u.path, &u.name),
            date(u.created),
            !u.mfa.is_empty()
        );
        key_columns(&mut out, u.keys.first());
        key_columns(&mut out, u.keys.get(1));
        cert_columns(&mut out, u.certs.first());
        cert_columns(&mut out, u.certs.get(1));
    }
    out
}

pub async fn generate_credential_report(
    _: Arc<Iam>,
    ctx: RequestContext,
    _: (),
) -> Result<GenerateCredentialReportResponse, AwsError> {
    state::mutate(&ctx, |a| {
        let now = ids::now();
        if a.report.as_ref().is_some_and(|r| now.millis - r.generated.millis < LIFETIME_MILLIS) {
            return Ok(GenerateCredentialReportResponse { state: Some("COMPLETE".to_owned()), description: None });
        }
        let description = match a.report {
            None => "No report exists. Starting a new report generation task",
            Some(_) => "Report is older than 4 hours. Starting a new report generation task",
        };
        // Made at once: the next call finds it complete.
        a.report = Some(state::CredentialReport { generated: now, csv: csv(a) });
        Ok(GenerateCredentialReportResponse {
            state: Some("STARTED".to_owned()),
            description: Some(description.to_owned()),
        })
    })
}

pub async fn get_credential_report(
    _: Arc<Iam>,
    ctx: RequestContext,
    _: (),
) -> Result<GetCredentialReportResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let report = a.report.as_ref().ok_or_else(|| {
        AwsError::new(
            StatusCode::GONE,
            "ReportNotPresent",
            "Unable to locate credential report. Please generate a new report.",
        )
    })?;
    if ids::now().millis - report.generated.millis >= LIFETIME_MILLIS {
        return Err(AwsError::new(
            StatusCode::GONE,
            "ReportExpired",
            "The credential report has expired. Please generate a new report.",
        ));
    }
    Ok(GetCredentialReportResponse {
        content: Some(Blob(report.csv.clone().into_bytes().into())),
        report_format: Some("text/csv".to_owned()),
        generated_time: Some(report.generated),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_carry_an_offset() {
        let t = ruststack_core::Timestamp { millis: 1_700_000_000_000 };
        assert_eq!(super::date(t), "2023-11-14T22:13:20+00:00");
    }
}
