//! MFA devices: virtual devices (created, listed, deleted) and the devices enabled for users.
//! Authentication codes are not verified against the seed: any two six-digit codes enable one.

use crate::errors::{already_exists, delete_conflict, limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::paging::page;
use crate::state::{self, Account, VirtualMfa, key, tags_out};
use crate::users::caller_user_name;
use crate::{Iam, account, ids};
use ruststack_core::{AwsError, Blob, RequestContext, Timestamp};
use std::sync::Arc;

/// AWS lets a user have up to eight MFA devices.
const DEVICES_PER_USER: usize = 8;

/// A 1×1 PNG: the QR code image is not drawn; the seed is what clients use.
const QR_PLACEHOLDER_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x37, 0x6e, 0xf9, 0x24, 0x00, 0x00, 0x00, 0x0a, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn virtual_not_found(serial: &str) -> AwsError {
    no_such_entity(format!("VirtualMFADevice with serial number {serial} doesn't exist."))
}

/// The user an MFA operation is about: the named one, else the calling IAM user (None: root).
fn owner(ctx: &RequestContext, named: Option<String>) -> Option<String> {
    named.or_else(|| ctx.identity.as_deref().and_then(caller_user_name).map(str::to_owned))
}

fn virtual_out(a: &Account, d: &VirtualMfa, secrets: bool) -> VirtualMFADevice {
    let user = d.user.as_ref().and_then(|(k, _)| a.users.get(k));
    VirtualMFADevice {
        serial_number: d.serial.clone(),
        base32_string_seed: secrets.then(|| Blob(d.seed.clone().into_bytes().into())),
        qr_code_png: secrets.then(|| Blob(QR_PLACEHOLDER_PNG.to_vec().into())),
        user: user.map(|u| a.user_out(u, false)),
        enable_date: d.user.as_ref().map(|(_, at)| Timestamp { millis: *at }),
        tags: (secrets && !d.tags.is_empty()).then(|| tags_out(&d.tags)),
    }
}

pub async fn create_virtual_mfa_device(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateVirtualMFADeviceRequest,
) -> Result<CreateVirtualMFADeviceResponse, AwsError> {
    let mut tags = Vec::new();
    crate::tags::apply(&mut tags, i.tags.unwrap_or_default())?;
    state::mutate(&ctx, |a| {
        let path = i.path.unwrap_or_else(|| "/".to_owned());
        let serial = a.arn("mfa", &path, &i.virtual_mfa_device_name);
        if a.mfa_devices.contains_key(&serial) {
            return Err(already_exists("MFADevice entity at the same path and name already exists."));
        }
        let device = VirtualMfa { serial: serial.clone(), seed: ids::base32_seed(), user: None, tags };
        let out = virtual_out(a, &device, true);
        a.mfa_devices.insert(serial, device);
        Ok(CreateVirtualMFADeviceResponse { virtual_mfa_device: out })
    })
}

pub async fn delete_virtual_mfa_device(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteVirtualMFADeviceRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        let d = a.mfa_devices.get(&i.serial_number).ok_or_else(|| virtual_not_found(&i.serial_number))?;
        if d.user.is_some() {
            return Err(delete_conflict("MFA device is still in use."));
        }
        a.mfa_devices.remove(&i.serial_number);
        Ok(())
    })
}

pub async fn list_virtual_mfa_devices(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListVirtualMFADevicesRequest,
) -> Result<ListVirtualMFADevicesResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let wanted = |d: &&VirtualMfa| match i.assignment_status.as_deref() {
        Some("Assigned") => d.user.is_some(),
        Some("Unassigned") => d.user.is_none(),
        _ => true,
    };
    let items = a.mfa_devices.values().filter(wanted).map(|d| (d.serial.clone(), virtual_out(&a, d, false)));
    let (virtual_mfa_devices, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListVirtualMFADevicesResponse { virtual_mfa_devices, is_truncated: Some(marker.is_some()), marker })
}

pub async fn enable_mfa_device(_: Arc<Iam>, ctx: RequestContext, i: EnableMFADeviceRequest) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        let user_key = key(&a.user(&i.user_name)?.name);
        let virtual_device = a.mfa_devices.get(&i.serial_number);
        let in_use = match virtual_device {
            Some(d) => d.user.is_some(),
            // A serial in this account's mfa/ namespace must be a virtual device it created;
            // anything else is taken for a hardware device's serial.
            None if i.serial_number.starts_with(&format!("arn:aws:iam::{}:mfa/", a.id)) => {
                return Err(virtual_not_found(&i.serial_number));
            }
            None => a.users.values().any(|u| u.mfa.iter().any(|(s, _)| *s == i.serial_number)),
        };
        if in_use {
            return Err(already_exists("MFA Device is already in use."));
        }
        let now = ids::now().millis;
        let user = a.user_mut(&i.user_name)?;
        if user.mfa.len() >= DEVICES_PER_USER {
            return Err(limit_exceeded(format!("Cannot exceed quota for MFADevicesPerUser: {DEVICES_PER_USER}")));
        }
        user.mfa.push((i.serial_number.clone(), now));
        if let Some(d) = a.mfa_devices.get_mut(&i.serial_number) {
            d.user = Some((user_key, now));
        }
        Ok(())
    })
}

pub async fn deactivate_mfa_device(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeactivateMFADeviceRequest,
) -> Result<(), AwsError> {
    let name = owner(&ctx, i.user_name);
    state::mutate(&ctx, |a| {
        let Some(name) = name else {
            return Err(no_such_entity(format!("MFA Device with serial number {} does not exist.", i.serial_number)));
        };
        let user = a.user_mut(&name)?;
        let index = user.mfa.iter().position(|(s, _)| *s == i.serial_number).ok_or_else(|| {
            no_such_entity(format!("MFA Device with serial number {} does not exist.", i.serial_number))
        })?;
        user.mfa.remove(index);
        if let Some(d) = a.mfa_devices.get_mut(&i.serial_number) {
            d.user = None;
        }
        Ok(())
    })
}

pub async fn list_mfa_devices(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListMFADevicesRequest,
) -> Result<ListMFADevicesResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let Some(name) = owner(&ctx, i.user_name) else {
        // The root user's own devices are not kept.
        return Ok(ListMFADevicesResponse { is_truncated: Some(false), ..Default::default() });
    };
    let user = a.user(&name)?;
    let items = user.mfa.iter().enumerate().map(|(n, (serial, at))| {
        let device = MFADevice {
            user_name: user.name.clone(),
            serial_number: serial.clone(),
            enable_date: Timestamp { millis: *at },
        };
        (format!("{n:03}"), device)
    });
    let (mfa_devices, marker) = page(items.collect::<Vec<_>>(), i.marker.as_deref(), i.max_items);
    Ok(ListMFADevicesResponse { mfa_devices, is_truncated: Some(marker.is_some()), marker })
}
