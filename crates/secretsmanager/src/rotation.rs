//! The seam between RotateSecret and the rotation function. AWS calls a rotation Lambda four
//! times (`createSecret`, `setSecret`, `testSecret`, `finishSecret`) with the secret's ARN and
//! the new version's token; the function moves the staging labels itself through the public
//! API. Until Lambda installs a [`Rotator`], RotateSecret only records the rotation settings.

use ruststack_core::service::BoxFuture;

/// The four steps of a rotation, in order.
pub const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

/// Invokes a rotation function for one step.
pub trait Rotator: Send + Sync + 'static {
    /// Calls `lambda_arn` with `{"Step": step, "SecretId": secret_arn, "ClientRequestToken": token}`;
    /// an error message fails the rotation.
    fn invoke(
        &self,
        lambda_arn: &str,
        step: &'static str,
        secret_arn: &str,
        token: &str,
    ) -> BoxFuture<Result<(), String>>;
}
