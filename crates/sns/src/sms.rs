//! Account-wide SMS settings (SetSMSAttributes / GetSMSAttributes) and the phone numbers opted out
//! of SMS. A number is opted out when its owner replies STOP, which never happens here, so the
//! list only shrinks (OptInPhoneNumber); it is kept with the settings so `--data-dir` keeps both.

use crate::api::{after_token, invalid, page_token};
use crate::generated::types::*;
use crate::state::Sns;
use ruststack_core::store::region_scope;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

type R<T> = Result<T, AwsError>;

const PAGE: usize = 100;

/// E.164: an optional `+` and up to 15 digits.
fn check_phone(number: &str) -> R<()> {
    let digits = number.strip_prefix('+').unwrap_or(number);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("PhoneNumber Reason: input incorrectly formatted"));
    }
    Ok(())
}

/// Checks the values of the attributes AWS documents; others are kept as given.
fn check_attribute(name: &str, value: &str) -> R<()> {
    let ok = match name {
        "DefaultSMSType" => matches!(value, "Promotional" | "Transactional"),
        "MonthlySpendLimit" => value.parse::<u64>().is_ok(),
        "DeliveryStatusSuccessSamplingRate" => value.parse::<u8>().is_ok_and(|n| n <= 100),
        "DefaultSenderID" => {
            (1..=11).contains(&value.len())
                && value.bytes().all(|b| b.is_ascii_alphanumeric())
                && value.bytes().any(|b| b.is_ascii_alphabetic())
        }
        _ => true,
    };
    if ok { Ok(()) } else { Err(invalid(format!("{name} Reason: invalid value [{value}]"))) }
}

pub async fn set_sms_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: SetSMSAttributesInput,
) -> R<SetSMSAttributesResponse> {
    for (k, v) in &input.attributes {
        check_attribute(k, v)?;
    }
    s.ensure(&ctx, None);
    let key = region_scope(&ctx.account_id, &ctx.region);
    let mut inner = s.inner.write();
    let before = inner.sms.get(&key).cloned();
    inner.sms.entry(key.clone()).or_default().attributes.extend(input.attributes);
    if let Err(e) = s.save_sms(&inner, &key) {
        match before {
            Some(b) => inner.sms.insert(key, b),
            None => inner.sms.remove(&key),
        };
        return Err(e);
    }
    Ok(SetSMSAttributesResponse {})
}

pub async fn get_sms_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: GetSMSAttributesInput,
) -> R<GetSMSAttributesResponse> {
    s.ensure(&ctx, None);
    let key = region_scope(&ctx.account_id, &ctx.region);
    let inner = s.inner.read();
    let wanted = input.attributes.unwrap_or_default();
    let attributes = inner
        .sms
        .get(&key)
        .map(|settings| {
            settings
                .attributes
                .iter()
                .filter(|(k, _)| wanted.is_empty() || wanted.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(GetSMSAttributesResponse { attributes: Some(attributes) })
}

pub async fn check_if_phone_number_is_opted_out(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: CheckIfPhoneNumberIsOptedOutInput,
) -> R<CheckIfPhoneNumberIsOptedOutResponse> {
    check_phone(&input.phone_number)?;
    s.ensure(&ctx, None);
    let key = region_scope(&ctx.account_id, &ctx.region);
    let opted_out = s.inner.read().sms.get(&key).is_some_and(|x| x.opted_out.contains(&input.phone_number));
    Ok(CheckIfPhoneNumberIsOptedOutResponse { is_opted_out: Some(opted_out) })
}

pub async fn list_phone_numbers_opted_out(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: ListPhoneNumbersOptedOutInput,
) -> R<ListPhoneNumbersOptedOutResponse> {
    let after = after_token(&input.next_token)?;
    s.ensure(&ctx, None);
    let key = region_scope(&ctx.account_id, &ctx.region);
    let inner = s.inner.read();
    let numbers: Vec<&String> = inner
        .sms
        .get(&key)
        .map(|x| {
            x.opted_out
                .iter()
                .filter(|n| after.as_ref().is_none_or(|a| n.as_str() > a.as_str()))
                .take(PAGE + 1)
                .collect()
        })
        .unwrap_or_default();
    let next_token = (numbers.len() > PAGE).then(|| page_token(numbers[PAGE - 1]));
    Ok(ListPhoneNumbersOptedOutResponse {
        phone_numbers: Some(numbers.into_iter().take(PAGE).cloned().collect()),
        next_token,
    })
}

pub async fn opt_in_phone_number(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: OptInPhoneNumberInput,
) -> R<OptInPhoneNumberResponse> {
    check_phone(&input.phone_number)?;
    s.ensure(&ctx, None);
    let key = region_scope(&ctx.account_id, &ctx.region);
    let mut inner = s.inner.write();
    let removed = inner.sms.get_mut(&key).is_some_and(|x| x.opted_out.remove(&input.phone_number));
    if removed && let Err(e) = s.save_sms(&inner, &key) {
        if let Some(x) = inner.sms.get_mut(&key) {
            x.opted_out.insert(input.phone_number);
        }
        return Err(e);
    }
    Ok(OptInPhoneNumberResponse {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_attributes_are_checked() {
        assert!(check_phone("+15555550100").is_ok());
        assert!(check_phone("447428545375").is_ok());
        assert_eq!(check_phone("+44742LALALA").unwrap_err().code, "InvalidParameter");
        assert!(check_phone("+1234567890123456").is_err());
        assert!(check_attribute("DefaultSMSType", "Transactional").is_ok());
        assert!(check_attribute("DefaultSMSType", "Loud").is_err());
        assert!(check_attribute("MonthlySpendLimit", "-1").is_err());
        assert!(check_attribute("DeliveryStatusSuccessSamplingRate", "101").is_err());
        assert!(check_attribute("DefaultSenderID", "MyCompany").is_ok());
        assert!(check_attribute("DefaultSenderID", "123").is_err());
    }

    #[tokio::test]
    async fn settings_merge_and_filter_and_opted_out_numbers_opt_in() {
        let sns = Arc::new(Sns::new(ruststack_sqs::Queues::new(&ruststack_core::store::Storage::memory())));
        let ctx = RequestContext::for_tests("SetSMSAttributes");
        let set = |pairs: &[(&str, &str)]| SetSMSAttributesInput {
            attributes: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        set_sms_attributes(sns.clone(), ctx.clone(), set(&[("DefaultSMSType", "Transactional")])).await.unwrap();
        set_sms_attributes(sns.clone(), ctx.clone(), set(&[("MonthlySpendLimit", "5")])).await.unwrap();
        let all = get_sms_attributes(sns.clone(), ctx.clone(), GetSMSAttributesInput::default()).await.unwrap();
        assert_eq!(all.attributes.unwrap().len(), 2);
        let one = GetSMSAttributesInput { attributes: Some(vec!["MonthlySpendLimit".into()]) };
        let one = get_sms_attributes(sns.clone(), ctx.clone(), one).await.unwrap().attributes.unwrap();
        assert_eq!(one.into_iter().collect::<Vec<_>>(), [("MonthlySpendLimit".to_string(), "5".to_string())]);

        let key = region_scope(&ctx.account_id, &ctx.region);
        sns.inner.write().sms.entry(key).or_default().opted_out.insert("+15555550199".into());
        let check = |n: &str| {
            check_if_phone_number_is_opted_out(
                sns.clone(),
                ctx.clone(),
                CheckIfPhoneNumberIsOptedOutInput { phone_number: n.into() },
            )
        };
        assert_eq!(check("+15555550199").await.unwrap().is_opted_out, Some(true));
        let listed = list_phone_numbers_opted_out(sns.clone(), ctx.clone(), Default::default()).await.unwrap();
        assert_eq!(listed.phone_numbers.unwrap(), ["+15555550199"]);
        opt_in_phone_number(sns.clone(), ctx.clone(), OptInPhoneNumberInput { phone_number: "+15555550199".into() })
            .await
            .unwrap();
        assert_eq!(check("+15555550199").await.unwrap().is_opted_out, Some(false));
    }
}
