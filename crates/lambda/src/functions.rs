//! Function handlers: create, read, list, update, delete; concurrency, tags and account settings.
//!
//! A new or updated function answers `State: Pending` / `LastUpdateStatus: InProgress`; a
//! background task unpacks the code and checks the runtime's interpreter, then marks it Active
//! (or Failed with a reason), so boto3's `function_active_v2` / `function_updated_v2` waiters work.

use crate::bootstraps;
use crate::generated::types::*;
use crate::layers;
use crate::packages::{Code, Opt};
use crate::state::*;
use crate::versions;
use ruststack_core::{AwsError, RequestContext};
use std::collections::HashMap;
use std::sync::Arc;

/// Environment keys Lambda sets itself and refuses from the function's configuration.
const RESERVED_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// AWS's account concurrency, and the part that must stay unreserved.
pub const ACCOUNT_CONCURRENCY: i32 = 1000;
const MIN_UNRESERVED: i32 = 100;

pub async fn create_function(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: CreateFunctionRequest,
) -> Result<FunctionConfiguration, AwsError> {
    let FunctionRef { name, qualifier } = parse_function_name(&input.function_name, None)?;
    if qualifier.is_some() {
        return Err(invalid_param("Qualifier is not supported for CreateFunction."));
    }
    check_limits(input.timeout, input.memory_size, input.ephemeral_storage.as_ref())?;
    if input.package_type.as_deref() == Some("Image") {
        return Err(invalid_param("RustStack runs functions without containers: PackageType Image is not supported."));
    }
    let (Some(runtime), Some(handler)) = (input.runtime.as_deref(), input.handler.as_deref()) else {
        return Err(invalid_param(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    };
    check_runtime(runtime)?;
    if let Some(env) = &input.environment {
        check_environment(env)?;
    }
    let code = code_from(
        &lambda,
        &ctx,
        input.code.zip_file.as_ref(),
        (input.code.s3_bucket.as_deref(), input.code.s3_key.as_deref(), input.code.s3_object_version.as_deref()),
    )
    .await?;
    let region = lambda.region(&ctx).await?;
    let (layer_list, layer_codes) = layers::resolve(&region.read(), &ctx, input.layers.as_deref().unwrap_or(&[]))?;
    check_total_size(&code, &layer_codes)?;

    let config = FunctionConfiguration {
        function_name: Some(name.clone()),
        function_arn: Some(function_arn(&ctx, &name)),
        runtime: Some(runtime.to_owned()),
        role: Some(input.role.clone()),
        handler: Some(handler.to_owned()),
        code_size: Some(code.zip.len() as i64),
        description: Some(input.description.clone().unwrap_or_default()),
        timeout: Some(input.timeout.unwrap_or(3)),
        memory_size: Some(input.memory_size.unwrap_or(128)),
        last_modified: Some(now_iso()),
        code_sha256: Some(code.sha256.clone()),
        version: Some("$LATEST".into()),
        environment: input
            .environment
            .as_ref()
            .map(|e| EnvironmentResponse { variables: Some(e.variables.clone().unwrap_or_default()), error: None }),
        dead_letter_config: input.dead_letter_config.clone(),
        kms_key_arn: input.kms_key_arn.clone(),
        tracing_config: Some(TracingConfigResponse {
            mode: Some(input.tracing_config.as_ref().and_then(|t| t.mode.clone()).unwrap_or("PassThrough".into())),
        }),
        revision_id: Some(uuid()),
        layers: (!layer_list.is_empty()).then_some(layer_list),
        state: Some("Pending".into()),
        state_reason: Some("The function is being created.".into()),
        state_reason_code: Some("Creating".into()),
        package_type: Some("Zip".into()),
        architectures: Some(input.architectures.clone().unwrap_or_else(|| vec!["x86_64".into()])),
        ephemeral_storage: Some(input.ephemeral_storage.clone().unwrap_or(EphemeralStorage { size: 512 })),
        snap_start: Some(SnapStartResponse { apply_on: Some("None".into()), optimization_status: Some("Off".into()) }),
        logging_config: Some(LoggingConfig {
            log_format: Some("Text".into()),
            log_group: Some(format!("/aws/lambda/{name}")),
            ..input.logging_config.clone().unwrap_or_default()
        }),
        file_system_configs: input.file_system_configs.clone(),
        vpc_config: input.vpc_config.as_ref().map(|v| VpcConfigResponse {
            subnet_ids: v.subnet_ids.clone(),
            security_group_ids: v.security_group_ids.clone(),
            vpc_id: Some(String::new()),
            ipv6_allowed_for_dual_stack: v.ipv6_allowed_for_dual_stack,
        }),
        ..Default::default()
    };
    let latest = Arc::new(Version {
        config,
        code,
        opt: Opt::new(layer_codes),
        revision: next_revision(),
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
    });
    if region.read().functions.contains_key(&name) {
        return Err(conflict(format!("Function already exist: {name}")));
    }
    lambda.store_code(&latest.code).await?;
    let answer = {
        let mut region = region.write();
        if region.functions.contains_key(&name) {
            return Err(conflict(format!("Function already exist: {name}")));
        }
        let mut function = Function {
            latest: latest.clone(),
            versions: Default::default(),
            next_version: 1,
            aliases: Default::default(),
            policies: Default::default(),
            policy_revisions: Default::default(),
            tags: input.tags.clone().unwrap_or_default().into_iter().collect(),
            reserved_concurrency: None,
            urls: Default::default(),
            last_published: None,
            event_invoke: Default::default(),
        };
        // Publishing at creation answers version 1 under the unqualified ARN.
        let answer = if input.publish == Some(true) {
            with_arn_qualifier(versions::publish(&mut function, &ctx, None).config.clone(), None)
        } else {
            latest.config.clone()
        };
        region.functions.insert(name.clone(), function);
        lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, None)?;
        answer
    };
    activate(&lambda, &ctx, &name);
    Ok(answer)
}

/// Finishes creation or an update in the background: unpacks the code, checks the interpreter,
/// then marks every snapshot still Pending / InProgress Active or Failed.
pub fn activate(lambda: &Arc<Lambda>, ctx: &RequestContext, name: &str) {
    activate_in(lambda, &ctx.account_id, &ctx.region, name);
}

/// [`activate`] in a loaded account and region.
pub fn activate_in(lambda: &Arc<Lambda>, account: &Arc<str>, region_name: &Arc<str>, name: &str) {
    let region = lambda.loaded_region(account, region_name);
    let Some(latest) = region.read().functions.get(name).map(|f| f.latest.clone()) else { return };
    let name = name.to_owned();
    let (lambda, account, region_name) = (lambda.clone(), account.clone(), region_name.clone());
    tokio::spawn(async move {
        let runtime = latest.config.runtime.clone().unwrap_or_default();
        let mut failure = latest.code.dir().await.err().map(|e| ("InvalidZipFileException", e));
        if failure.is_none() {
            failure = latest.opt.dir().await.err().map(|e| ("InvalidZipFileException", e));
        }
        if failure.is_none() {
            let checked = tokio::task::spawn_blocking(move || bootstraps::interpreter(&runtime)).await;
            failure = match checked {
                Ok(Ok(_)) => None,
                Ok(Err(reason)) => Some(("InvalidRuntime", reason)),
                Err(e) => Some(("InternalError", e.to_string())),
            };
        }
        let region_lock = region;
        let mut region = region_lock.write();
        let Some(function) = region.functions.get_mut(&name) else { return };
        let before = function.clone();
        let settle = |v: &Arc<Version>| -> Arc<Version> {
            let mut config = v.config.clone();
            if config.state.as_deref() == Some("Pending") {
                match &failure {
                    None => {
                        config.state = Some("Active".into());
                        config.state_reason = None;
                        config.state_reason_code = None;
                    }
                    Some((code, reason)) => {
                        config.state = Some("Failed".into());
                        config.state_reason = Some(reason.clone());
                        config.state_reason_code = Some((*code).into());
                    }
                }
            }
            match &failure {
                None => {
                    config.last_update_status = Some("Successful".into());
                    config.last_update_status_reason = None;
                    config.last_update_status_reason_code = None;
                }
                Some((code, reason)) => {
                    config.last_update_status = Some("Failed".into());
                    config.last_update_status_reason = Some(reason.clone());
                    config.last_update_status_reason_code = Some((*code).into());
                }
            }
            Arc::new(v.with_config(config))
        };
        if function.latest.revision == latest.revision {
            function.latest = settle(&function.latest);
        }
        for v in function.versions.values_mut() {
            if v.code.sha256 == latest.code.sha256 && v.config.state.as_deref() == Some("Pending") {
                *v = settle(v);
            }
        }
        // Stored only while this is still the service's region (a reset may have dropped it);
        // a failed write keeps the old state (the settled one is shown again after a restart).
        let current = lambda.loaded_region(&account, &region_name);
        if Arc::ptr_eq(&current, &region_lock) {
            let _ = lambda.save_function(&account, &region_name, &mut region, &name, Some(before));
        }
    });
}

pub fn check_runtime(runtime: &str) -> Result<(), AwsError> {
    if bootstraps::deprecated(runtime) {
        return Err(invalid_param(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    Ok(())
}

/// Lambda's own limits, tighter than the model's (which also covers managed instances).
pub fn check_limits(
    timeout: Option<i32>,
    memory: Option<i32>,
    storage: Option<&EphemeralStorage>,
) -> Result<(), AwsError> {
    if let Some(t) = timeout.filter(|t| *t > 900) {
        return Err(validation(t, "timeout", "Member must have value less than or equal to 900"));
    }
    if let Some(m) = memory.filter(|m| *m > 10240) {
        return Err(validation(m, "memorySize", "Member must have value less than or equal to 10240"));
    }
    if let Some(size) = storage.map(|e| e.size).filter(|s| *s > 10240) {
        return Err(validation(size, "ephemeralStorage.size", "Member must have value less than or equal to 10240"));
    }
    Ok(())
}

pub fn check_environment(env: &Environment) -> Result<(), AwsError> {
    let Some(vars) = &env.variables else { return Ok(()) };
    let mut reserved: Vec<&str> = vars.keys().map(String::as_str).filter(|k| RESERVED_KEYS.contains(k)).collect();
    if !reserved.is_empty() {
        reserved.sort_unstable();
        return Err(invalid_param(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let size = serde_json::to_string(vars).map(|s| s.len()).unwrap_or(0);
    if size > 4096 {
        return Err(invalid_param(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: "
                .to_owned()
                + &serde_json::to_string(vars).unwrap_or_default(),
        ));
    }
    Ok(())
}

/// The package from a request's code fields: the zip itself, or an object of our S3.
pub async fn code_from(
    lambda: &Lambda,
    ctx: &RequestContext,
    zip: Option<&ruststack_core::Blob>,
    s3: (Option<&str>, Option<&str>, Option<&str>),
) -> Result<Arc<Code>, AwsError> {
    match (zip, s3) {
        (Some(zip), _) => Code::from_zip(zip.0.clone()),
        (None, (Some(bucket), Some(key), version)) => {
            Code::from_zip(crate::s3_code::fetch(lambda.gateway_port(), ctx, bucket, key, version).await?)
        }
        (None, (Some(_), None, _)) | (None, (None, Some(_), _)) => {
            Err(invalid_param("Please specify both S3Bucket and S3Key to locate the function code."))
        }
        (None, _) => Err(invalid_param("Please provide a source for function code.")),
    }
}

fn check_total_size(code: &Code, layers: &[Arc<Code>]) -> Result<(), AwsError> {
    let total = code.unzipped_size + layers.iter().map(|l| l.unzipped_size).sum::<u64>();
    if total > crate::packages::MAX_UNZIPPED {
        return Err(invalid_param(format!(
            "Function code combined with layers exceeds the maximum allowed size of {} bytes. The actual size is {total} bytes.",
            crate::packages::MAX_UNZIPPED
        )));
    }
    Ok(())
}

/// The snapshot a function reference names (for reads).
pub async fn find(lambda: &Lambda, ctx: &RequestContext, reference: &FunctionRef) -> Result<Arc<Version>, AwsError> {
    let region = lambda.region(ctx).await?;
    let region = region.read();
    let function = region
        .functions
        .get(&reference.name)
        .ok_or_else(|| function_not_found(ctx, &reference.name, reference.qualifier.as_deref()))?;
    function
        .resolve(reference.qualifier.as_deref())
        .ok_or_else(|| function_not_found(ctx, &reference.name, reference.qualifier.as_deref()))
}

/// A configuration whose ARN carries `qualifier`, or none: AWS qualifies the ARN with what the
/// request named (`$LATEST`, a version or an alias, whose answer is its version's otherwise) and
/// leaves it unqualified when nothing was named.
pub fn with_arn_qualifier(mut config: FunctionConfiguration, qualifier: Option<&str>) -> FunctionConfiguration {
    let name_len = config.function_name.as_deref().map_or(0, str::len);
    if let Some(arn) = config.function_arn.as_mut() {
        if let Some(at) = arn.find(":function:") {
            arn.truncate((at + ":function:".len() + name_len).min(arn.len()));
        }
        if let Some(q) = qualifier {
            arn.push(':');
            arn.push_str(q);
        }
    }
    config
}

pub async fn get_function(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetFunctionRequest,
) -> Result<GetFunctionResponse, AwsError> {
    let reference = parse_function_name(&input.function_name, input.qualifier.as_deref())?;
    let version = find(&lambda, &ctx, &reference).await?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function = region.functions.get(&reference.name);
    let tags = function.map(|f| f.tags.clone().into_iter().collect::<HashMap<_, _>>());
    let concurrency =
        function.and_then(|f| f.reserved_concurrency).map(|n| Concurrency { reserved_concurrent_executions: Some(n) });
    Ok(GetFunctionResponse {
        configuration: Some(with_arn_qualifier(version.config.clone(), reference.qualifier.as_deref())),
        code: Some(FunctionCodeLocation {
            repository_type: Some("S3".into()),
            location: Some(version.code.location(&ctx.host)),
            ..Default::default()
        }),
        tags: tags.filter(|t| !t.is_empty()),
        tags_error: None,
        concurrency,
    })
}

pub async fn get_function_configuration(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetFunctionConfigurationRequest,
) -> Result<FunctionConfiguration, AwsError> {
    let reference = parse_function_name(&input.function_name, input.qualifier.as_deref())?;
    let version = find(&lambda, &ctx, &reference).await?;
    Ok(with_arn_qualifier(version.config.clone(), reference.qualifier.as_deref()))
}

pub async fn list_functions(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListFunctionsRequest,
) -> Result<ListFunctionsResponse, AwsError> {
    if let Some(v) = input.function_version.as_deref().filter(|v| *v != "ALL") {
        return Err(validation(v, "functionVersion", "Member must satisfy enum value set: [ALL]"));
    }
    let all = input.function_version.is_some();
    let region = lambda.region(&ctx).await?;
    let items: Vec<(String, FunctionConfiguration)> = {
        let region = region.read();
        let mut items = Vec::new();
        for (name, f) in &region.functions {
            // Listing every version qualifies each ARN, `$LATEST`'s too.
            let latest = f.latest.config.clone();
            items
                .push((format!("{name}\u{0}"), if all { with_arn_qualifier(latest, Some("$LATEST")) } else { latest }));
            if all {
                for (n, v) in &f.versions {
                    items.push((format!("{name}\u{0}{n:010}"), v.config.clone()));
                }
            }
        }
        items
    };
    let (functions, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListFunctionsResponse { functions: Some(functions), next_marker })
}

pub async fn delete_function(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: DeleteFunctionRequest,
) -> Result<DeleteFunctionResponse, AwsError> {
    let FunctionRef { name, qualifier } = parse_function_name(&input.function_name, input.qualifier.as_deref())?;
    let region = lambda.region(&ctx).await?;
    let mut retired = Vec::new();
    {
        let mut region = region.write();
        let before = region.functions.get(&name).cloned();
        let function =
            region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, qualifier.as_deref()))?;
        match qualifier.as_deref() {
            None => {
                let function = region.functions.remove(&name).expect("checked");
                retired.push(function.latest.revision);
                retired.extend(function.versions.values().map(|v| v.revision));
            }
            Some("$LATEST") => {
                return Err(invalid_param("$LATEST version cannot be deleted without deleting the function."));
            }
            Some(q) => {
                let number: u64 = q.parse().map_err(|_| {
                    invalid_param("Deletion of aliases is not supported. Use DeleteAlias to delete an alias.")
                })?;
                let referencing: Vec<&str> = function
                    .aliases
                    .values()
                    .filter(|a| {
                        a.function_version == q
                            || a.routing
                                .as_ref()
                                .and_then(|r| r.additional_version_weights.as_ref())
                                .is_some_and(|w| w.contains_key(q))
                    })
                    .map(|a| a.name.as_str())
                    .collect();
                if !referencing.is_empty() {
                    return Err(conflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        referencing.join(", ")
                    )));
                }
                let version =
                    function.versions.remove(&number).ok_or_else(|| function_not_found(&ctx, &name, Some(q)))?;
                retired.push(version.revision);
            }
        }
        lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, before)?;
    }
    for revision in retired {
        lambda.executor.retire(revision);
    }
    Ok(DeleteFunctionResponse { status_code: Some(204) })
}

/// Replaces `$LATEST` with a new snapshot made by `change`, checking the revision id first.
/// Returns the new snapshot and, when asked, the version published from it.
async fn update_latest(
    lambda: &Arc<Lambda>,
    ctx: &RequestContext,
    name: &str,
    revision_id: Option<&str>,
    publish: bool,
    change: impl FnOnce(&Version) -> Result<Version, AwsError>,
) -> Result<FunctionConfiguration, AwsError> {
    let region = lambda.region(ctx).await?;
    let (answer, old) = {
        let mut region = region.write();
        let before = region.functions.get(name).cloned();
        let function = region.functions.get_mut(name).ok_or_else(|| function_not_found(ctx, name, None))?;
        if revision_id.is_some_and(|r| Some(r) != function.latest.config.revision_id.as_deref()) {
            return Err(precondition_failed());
        }
        let mut next = change(&function.latest)?;
        next.config.last_modified = Some(now_iso());
        next.config.revision_id = Some(uuid());
        next.config.last_update_status = Some("InProgress".into());
        next.config.last_update_status_reason = Some("The function is being created.".into());
        next.config.last_update_status_reason_code = Some("Creating".into());
        let old = std::mem::replace(&mut function.latest, Arc::new(next));
        let answer = if publish {
            versions::publish(function, ctx, None).config.clone()
        } else {
            function.latest.config.clone()
        };
        lambda.save_function(&ctx.account_id, &ctx.region, &mut region, name, before)?;
        (answer, old)
    };
    lambda.executor.retire(old.revision);
    activate(lambda, ctx, name);
    Ok(answer)
}

pub async fn update_function_code(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: UpdateFunctionCodeRequest,
) -> Result<FunctionConfiguration, AwsError> {
    let FunctionRef { name, qualifier } = parse_function_name(&input.function_name, None)?;
    if qualifier.is_some() {
        return Err(invalid_param("Qualifier is not supported for UpdateFunctionCode."));
    }
    if input.image_uri.is_some() {
        return Err(invalid_param("RustStack runs functions without containers: ImageUri is not supported."));
    }
    let code = code_from(
        &lambda,
        &ctx,
        input.zip_file.as_ref(),
        (input.s3_bucket.as_deref(), input.s3_key.as_deref(), input.s3_object_version.as_deref()),
    )
    .await?;
    if input.dry_run != Some(true) {
        lambda.store_code(&code).await?;
    }
    let change = |current: &Version| {
        let mut config = current.config.clone();
        config.code_sha256 = Some(code.sha256.clone());
        config.code_size = Some(code.zip.len() as i64);
        if let Some(arch) = &input.architectures {
            config.architectures = Some(arch.clone());
        }
        Ok(Version {
            config,
            code: code.clone(),
            opt: current.opt.clone(),
            revision: next_revision(),
            account: current.account.clone(),
            region: current.region.clone(),
        })
    };
    if input.dry_run == Some(true) {
        let region = lambda.region(&ctx).await?;
        let region = region.read();
        let function = region.functions.get(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
        return Ok(change(&function.latest)?.config);
    }
    let updated =
        update_latest(&lambda, &ctx, &name, input.revision_id.as_deref(), input.publish == Some(true), change).await;
    if updated.is_err() {
        // The package stored for this update may have no user.
        lambda.collect_package(&code.sha_hex);
    }
    updated
}

pub async fn update_function_configuration(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: UpdateFunctionConfigurationRequest,
) -> Result<FunctionConfiguration, AwsError> {
    let FunctionRef { name, qualifier } = parse_function_name(&input.function_name, None)?;
    if qualifier.is_some() {
        return Err(invalid_param("Qualifier is not supported for UpdateFunctionConfiguration."));
    }
    if let Some(runtime) = &input.runtime {
        check_runtime(runtime)?;
    }
    check_limits(input.timeout, input.memory_size, input.ephemeral_storage.as_ref())?;
    if let Some(env) = &input.environment {
        check_environment(env)?;
    }
    let new_layers = match &input.layers {
        Some(arns) => {
            let region = lambda.region(&ctx).await?;
            let region = region.read();
            Some(layers::resolve(&region, &ctx, arns)?)
        }
        None => None,
    };
    update_latest(&lambda, &ctx, &name, input.revision_id.as_deref(), false, |current| {
        let mut config = current.config.clone();
        let set = |slot: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value {
                *slot = Some(v.clone());
            }
        };
        set(&mut config.role, &input.role);
        set(&mut config.handler, &input.handler);
        set(&mut config.description, &input.description);
        set(&mut config.runtime, &input.runtime);
        set(&mut config.kms_key_arn, &input.kms_key_arn);
        if let Some(t) = input.timeout {
            config.timeout = Some(t);
        }
        if let Some(m) = input.memory_size {
            config.memory_size = Some(m);
        }
        if let Some(env) = &input.environment {
            config.environment =
                Some(EnvironmentResponse { variables: Some(env.variables.clone().unwrap_or_default()), error: None });
        }
        if let Some(d) = &input.dead_letter_config {
            config.dead_letter_config = Some(d.clone());
        }
        if let Some(t) = &input.tracing_config {
            config.tracing_config = Some(TracingConfigResponse { mode: t.mode.clone() });
        }
        if let Some(e) = &input.ephemeral_storage {
            config.ephemeral_storage = Some(e.clone());
        }
        if let Some(l) = &input.logging_config {
            let current = config.logging_config.take().unwrap_or_default();
            config.logging_config = Some(LoggingConfig {
                log_format: l.log_format.clone().or(current.log_format),
                application_log_level: l.application_log_level.clone().or(current.application_log_level),
                system_log_level: l.system_log_level.clone().or(current.system_log_level),
                log_group: l.log_group.clone().or(current.log_group),
            });
        }
        let opt = match &new_layers {
            Some((list, codes)) => {
                check_total_size(&current.code, codes)?;
                config.layers = (!list.is_empty()).then(|| list.clone());
                Opt::new(codes.clone())
            }
            None => current.opt.clone(),
        };
        Ok(Version {
            config,
            code: current.code.clone(),
            opt,
            revision: next_revision(),
            account: current.account.clone(),
            region: current.region.clone(),
        })
    })
    .await
}

// ---- concurrency ----

pub async fn put_function_concurrency(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: PutFunctionConcurrencyRequest,
) -> Result<Concurrency, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let n = input.reserved_concurrent_executions;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let others: i32 =
        region.functions.iter().filter(|(other, _)| **other != name).filter_map(|(_, f)| f.reserved_concurrency).sum();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    if ACCOUNT_CONCURRENCY - others - n < MIN_UNRESERVED {
        return Err(invalid_param(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
        )));
    }
    let before = function.clone();
    function.reserved_concurrency = Some(n);
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(Concurrency { reserved_concurrent_executions: Some(n) })
}

pub async fn get_function_concurrency(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetFunctionConcurrencyRequest,
) -> Result<GetFunctionConcurrencyResponse, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function = region.functions.get(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    Ok(GetFunctionConcurrencyResponse { reserved_concurrent_executions: function.reserved_concurrency })
}

pub async fn delete_function_concurrency(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: DeleteFunctionConcurrencyRequest,
) -> Result<(), AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let before = function.clone();
    function.reserved_concurrency = None;
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(())
}

// ---- tags ----

/// The function a tagging ARN names (an unqualified function ARN).
fn tagged_function(resource: &str) -> Result<String, AwsError> {
    let reference = parse_function_name(resource, None)?;
    if reference.qualifier.is_some() {
        return Err(invalid_param(
            "Tags on function aliases and versions are not supported. Please specify a function ARN.",
        ));
    }
    if !resource.starts_with("arn:") {
        return Err(validation(
            resource,
            "resource",
            "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
        ));
    }
    Ok(reference.name)
}

pub async fn tag_resource(lambda: Arc<Lambda>, ctx: RequestContext, input: TagResourceRequest) -> Result<(), AwsError> {
    let name = tagged_function(&input.resource)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let before = function.clone();
    function.tags.extend(input.tags);
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(())
}

pub async fn untag_resource(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: UntagResourceRequest,
) -> Result<(), AwsError> {
    let name = tagged_function(&input.resource)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let before = function.clone();
    for key in &input.tag_keys {
        function.tags.remove(key);
    }
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(())
}

pub async fn list_tags(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListTagsRequest,
) -> Result<ListTagsResponse, AwsError> {
    let name = tagged_function(&input.resource)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function = region.functions.get(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    Ok(ListTagsResponse { tags: Some(function.tags.clone().into_iter().collect()) })
}

// ---- code signing ----

/// RustStack does not sign code: every function answers with no code signing config, as AWS
/// does for a function without one.
pub async fn get_function_code_signing_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetFunctionCodeSigningConfigRequest,
) -> Result<GetFunctionCodeSigningConfigResponse, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    if !region.read().functions.contains_key(&name) {
        return Err(function_not_found(&ctx, &name, None));
    }
    Ok(GetFunctionCodeSigningConfigResponse { code_signing_config_arn: String::new(), function_name: name })
}

// ---- account ----

pub async fn get_account_settings(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    _input: GetAccountSettingsRequest,
) -> Result<GetAccountSettingsResponse, AwsError> {
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let reserved: i32 = region.functions.values().filter_map(|f| f.reserved_concurrency).sum();
    let total_code: i64 = region
        .functions
        .values()
        .map(|f| f.latest.code.zip.len() as i64 + f.versions.values().map(|v| v.code.zip.len() as i64).sum::<i64>())
        .sum();
    Ok(GetAccountSettingsResponse {
        account_limit: Some(AccountLimit {
            total_code_size: Some(80_530_636_800),
            code_size_unzipped: Some(crate::packages::MAX_UNZIPPED as i64),
            code_size_zipped: Some(crate::packages::MAX_ZIPPED as i64),
            concurrent_executions: Some(ACCOUNT_CONCURRENCY),
            unreserved_concurrent_executions: Some(ACCOUNT_CONCURRENCY - reserved),
        }),
        account_usage: Some(AccountUsage {
            total_code_size: Some(total_code),
            function_count: Some(region.functions.len() as i64),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_rules() {
        let env = |pairs: &[(&str, &str)]| Environment {
            variables: Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        };
        assert!(check_environment(&env(&[("A", "1")])).is_ok());
        let e = check_environment(&env(&[("AWS_REGION", "x")])).unwrap_err();
        assert!(e.message.ends_with("Reserved keys used in this request: AWS_REGION"), "{}", e.message);
        let big = "x".repeat(5000);
        assert!(check_environment(&env(&[("A", &big)])).unwrap_err().message.contains("exceeded the 4KB limit"));
    }

    #[test]
    fn arn_qualifiers() {
        let config = |arn: &str| FunctionConfiguration {
            function_name: Some("f".into()),
            function_arn: Some(arn.into()),
            ..Default::default()
        };
        let base = "arn:aws:lambda:us-east-1:000000000000:function:f";
        let arn = |c: FunctionConfiguration| c.function_arn.unwrap();
        assert_eq!(arn(with_arn_qualifier(config(base), None)), base);
        assert_eq!(arn(with_arn_qualifier(config(base), Some("$LATEST"))), format!("{base}:$LATEST"));
        assert_eq!(arn(with_arn_qualifier(config(&format!("{base}:3")), None)), base);
        assert_eq!(arn(with_arn_qualifier(config(&format!("{base}:3")), Some("live"))), format!("{base}:live"));
    }

    #[test]
    fn limits() {
        assert!(check_limits(Some(900), Some(10240), Some(&EphemeralStorage { size: 10240 })).is_ok());
        assert_eq!(check_limits(Some(901), None, None).unwrap_err().code, "ValidationException");
        assert_eq!(check_limits(None, Some(10241), None).unwrap_err().code, "ValidationException");
        let e = check_limits(None, None, Some(&EphemeralStorage { size: 3_000_000 })).unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value '3000000' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value less than or equal to 10240"
        );
        assert_eq!(check_runtime("python3.7").unwrap_err().code, "InvalidParameterValueException");
    }
}
