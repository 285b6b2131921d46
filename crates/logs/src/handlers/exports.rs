//! Export tasks. CreateExportTask is not served (it writes to S3, which this crate cannot reach),
//! so an account has no tasks: DescribeExportTasks lists none and CancelExportTask finds none,
//! as AWS answers for an account that never exported.

use crate::generated::types::*;
use crate::state::LogsState;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

pub async fn describe_export_tasks(
    _: Arc<LogsState>,
    _: RequestContext,
    _: DescribeExportTasksRequest,
) -> Result<DescribeExportTasksResponse, AwsError> {
    Ok(DescribeExportTasksResponse { export_tasks: Some(Vec::new()), next_token: None })
}

pub async fn cancel_export_task(
    _: Arc<LogsState>,
    _: RequestContext,
    _: CancelExportTaskRequest,
) -> Result<(), AwsError> {
    Err(AwsError::bad_request("ResourceNotFoundException", "The specified export task does not exist."))
}
