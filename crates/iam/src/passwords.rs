//! Console passwords: users' login profiles and the account's password policy. Passwords are
//! checked against the policy and then forgotten: nothing here signs anyone in.

use crate::errors::{already_exists, no_such_entity};
use crate::generated::types::*;
use crate::state::{self, Account};
use crate::users::caller_user_name;
use crate::{Iam, account, ids};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

fn profile_not_found(user: &str) -> AwsError {
    no_such_entity(format!("Login Profile for User {user} cannot be found."))
}

fn policy_not_found() -> AwsError {
    no_such_entity("The account policy with name PasswordPolicy cannot be found.")
}

/// The user a login profile operation is about: the named one, else the calling IAM user.
fn owner(ctx: &RequestContext, named: Option<String>) -> Result<String, AwsError> {
    named.or_else(|| ctx.identity.as_deref().and_then(caller_user_name).map(str::to_owned)).ok_or_else(|| {
        AwsError::bad_request("ValidationError", "Must specify userName when calling with non-User credentials")
    })
}

/// A password the account's policy refuses is `PasswordPolicyViolation`.
fn check_password(a: &Account, password: &str) -> Result<(), AwsError> {
    let Some(p) = &a.password_policy else { return Ok(()) };
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    let ok = password.chars().count() >= p.min_length as usize
        && (!p.symbols || has(|c| c.is_ascii_punctuation()))
        && (!p.numbers || has(char::is_ascii_digit))
        && (!p.uppercase || has(char::is_ascii_uppercase))
        && (!p.lowercase || has(char::is_ascii_lowercase));
    if ok {
        Ok(())
    } else {
        Err(AwsError::bad_request(
            "PasswordPolicyViolation",
            "Password does not conform to the account password policy.",
        ))
    }
}

fn profile_out(user: &state::User) -> Option<LoginProfile> {
    user.login.as_ref().map(|l| LoginProfile {
        user_name: user.name.clone(),
        create_date: l.created,
        password_reset_required: Some(l.reset_required),
        max_signin_session_duration: None,
    })
}

pub async fn create_login_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateLoginProfileRequest,
) -> Result<CreateLoginProfileResponse, AwsError> {
    let name = owner(&ctx, i.user_name)?;
    state::mutate(&ctx, |a| {
        let user = a.user(&name)?;
        if user.login.is_some() {
            return Err(already_exists(format!("Login Profile for user {} already exists.", user.name)));
        }
        check_password(a, i.password.as_deref().unwrap_or_default())?;
        let user = a.user_mut(&name)?;
        user.login = Some(state::LoginProfile {
            created: ids::now(),
            reset_required: i.password_reset_required.unwrap_or(false),
        });
        Ok(CreateLoginProfileResponse { login_profile: profile_out(user).expect("just set") })
    })
}

pub async fn get_login_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetLoginProfileRequest,
) -> Result<GetLoginProfileResponse, AwsError> {
    let name = owner(&ctx, i.user_name)?;
    let a = account(&ctx);
    let a = a.read();
    let user = a.user(&name)?;
    let login_profile = profile_out(user).ok_or_else(|| profile_not_found(&user.name))?;
    Ok(GetLoginProfileResponse { login_profile })
}

pub async fn update_login_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateLoginProfileRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        let user = a.user(&i.user_name)?;
        if user.login.is_none() {
            return Err(profile_not_found(&user.name));
        }
        if let Some(password) = &i.password {
            check_password(a, password)?;
        }
        let login = a.user_mut(&i.user_name)?.login.as_mut().expect("checked above");
        if let Some(reset) = i.password_reset_required {
            login.reset_required = reset;
        }
        Ok(())
    })
}

pub async fn delete_login_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteLoginProfileRequest,
) -> Result<(), AwsError> {
    let name = owner(&ctx, i.user_name)?;
    state::mutate(&ctx, |a| {
        let user = a.user_mut(&name)?;
        user.login.take().map(|_| ()).ok_or_else(|| profile_not_found(&user.name))
    })
}

pub async fn update_account_password_policy(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateAccountPasswordPolicyRequest,
) -> Result<(), AwsError> {
    // Every call replaces the whole policy: members left out take their defaults.
    state::mutate(&ctx, |a| {
        a.password_policy = Some(state::PasswordPolicy {
            min_length: i.minimum_password_length.unwrap_or(6),
            symbols: i.require_symbols.unwrap_or(false),
            numbers: i.require_numbers.unwrap_or(false),
            uppercase: i.require_uppercase_characters.unwrap_or(false),
            lowercase: i.require_lowercase_characters.unwrap_or(false),
            users_can_change: i.allow_users_to_change_password.unwrap_or(false),
            max_age: i.max_password_age.filter(|&d| d > 0),
            reuse_prevention: i.password_reuse_prevention.filter(|&n| n > 0),
            hard_expiry: i.hard_expiry,
        });
        Ok(())
    })
}

pub async fn get_account_password_policy(
    _: Arc<Iam>,
    ctx: RequestContext,
    _: (),
) -> Result<GetAccountPasswordPolicyResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let p = a
        .password_policy
        .as_ref()
        .ok_or_else(|| no_such_entity(format!("The Password Policy with domain name {} cannot be found.", a.id)))?;
    Ok(GetAccountPasswordPolicyResponse {
        password_policy: PasswordPolicy {
            minimum_password_length: Some(p.min_length),
            require_symbols: Some(p.symbols),
            require_numbers: Some(p.numbers),
            require_uppercase_characters: Some(p.uppercase),
            require_lowercase_characters: Some(p.lowercase),
            allow_users_to_change_password: Some(p.users_can_change),
            expire_passwords: Some(p.max_age.is_some()),
            // Age and hard expiry are shown unset as 0 and false; reuse prevention only when set.
            max_password_age: Some(p.max_age.unwrap_or(0)),
            password_reuse_prevention: p.reuse_prevention,
            hard_expiry: Some(p.hard_expiry.unwrap_or(false)),
        },
    })
}

pub async fn delete_account_password_policy(_: Arc<Iam>, ctx: RequestContext, _: ()) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| a.password_policy.take().map(|_| ()).ok_or_else(policy_not_found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_meet_the_policy() {
        let mut a = Account::empty("111111111111");
        assert!(check_password(&a, "x").is_ok(), "no policy, no rules");
        a.password_policy =
            Some(state::PasswordPolicy { min_length: 8, symbols: true, numbers: true, ..Default::default() });
        assert!(check_password(&a, "abcdef1!").is_ok());
        for bad in ["abc1!", "abcdefg1", "abcdefg!"] {
            assert_eq!(check_password(&a, bad).unwrap_err().code.as_ref(), "PasswordPolicyViolation", "{bad}");
        }
    }
}
