//! How a service plugs into the gateway: a [`Service`] is a model plus a table of handlers.
//!
//! A service crate writes its handlers as async functions over typed input and output and lists
//! them once in a [`Handlers`] table; everything else (routing, decoding, validation, encoding,
//! errors) happens outside the crate.

use crate::body::Body;
use crate::context::RequestContext;
use crate::error::{AwsError, Result};
use crate::shape::{Operation, ServiceModel};
use crate::types::{OperationSpec, StreamingBody, Value, input_from_value, output_to_value};
use http::Response;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A decoded request on its way to a handler.
pub struct OperationRequest {
    pub ctx: RequestContext,
    pub input: Value,
    pub payload: Option<StreamingBody>,
}

/// A handler's answer on its way to the codec.
pub struct OperationResponse {
    pub output: Value,
    pub payload: Option<StreamingBody>,
}

/// The answer of [`Service::raw`].
pub enum Raw {
    /// An ordinary AWS API call: the body comes back for the codec.
    NotMine(Body),
    /// A request the service answers itself (Lambda's Runtime API, function URLs, code downloads).
    Answer(BoxFuture<Response<Body>>),
}

/// What the gateway sees of a service.
pub trait Service: Send + Sync + 'static {
    fn model(&self) -> &'static ServiceModel;
    /// Runs the handler of a served operation (`NotImplemented` when the table has none).
    fn call(&self, op: &'static Operation, req: OperationRequest) -> BoxFuture<Result<OperationResponse>>;
    /// Names of the operations with a handler, sorted.
    fn implemented(&self) -> Vec<&'static str>;
    /// Forgets all state (`POST /_ruststack/reset`).
    fn reset(&self);
    /// Bytes of state held (object bodies, items…), for the metrics endpoint.
    fn stored_bytes(&self) -> u64;
    /// Service-specific gauges for the metrics endpoint (`lambda_environments`, …).
    fn gauges(&self) -> Vec<(&'static str, u64)>;
    /// Offered every request routed to this service before the codec sees it.
    fn raw(&self, parts: &http::request::Parts, body: Body) -> Raw;
}

/// State a service keeps; `reset` returns it to empty.
pub trait ServiceState: Send + Sync + 'static {
    fn reset(&self);
    /// Bytes of state held, when the service tracks it.
    fn stored_bytes(&self) -> u64 {
        0
    }

    /// Service-specific gauges (name without the `ruststack_` prefix, value).
    fn gauges(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// A service's own HTTP handling beside its API (see [`Service::raw`]).
pub type RawHandler<S> = Box<dyn Fn(&Arc<S>, &http::request::Parts, Body) -> Raw + Send + Sync>;

type ErasedHandler<S> = Box<
    dyn Fn(Arc<S>, RequestContext, Value, Option<StreamingBody>) -> BoxFuture<Result<OperationResponse>> + Send + Sync,
>;

/// A service's handler table: operation name → typed async handler.
pub struct Handlers<S> {
    model: &'static ServiceModel,
    state: Arc<S>,
    table: HashMap<&'static str, ErasedHandler<S>>,
    raw: Option<RawHandler<S>>,
}

impl<S: ServiceState> Handlers<S> {
    pub fn new(model: &'static ServiceModel, state: Arc<S>) -> Self {
        Handlers { model, state, table: HashMap::new(), raw: None }
    }

    /// Registers the handler of operation `Op` (a generated unit struct from the service's `ops`).
    pub fn on<Op, F, Fut>(mut self, _op: Op, handler: F) -> Self
    where
        Op: OperationSpec,
        F: Fn(Arc<S>, RequestContext, Op::Input) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Op::Output>> + Send + 'static,
    {
        assert!(self.model.operation(Op::NAME).is_some(), "{} is not a served operation", Op::NAME);
        let erased: ErasedHandler<S> = Box::new(move |state, ctx, input, payload| {
            let input = input_from_value::<Op::Input>(input, payload);
            match input {
                Err(e) => Box::pin(async move { Err(e) }),
                Ok(input) => {
                    let fut = handler(state, ctx, input);
                    Box::pin(async move {
                        let (output, payload) = output_to_value(fut.await?)?;
                        Ok(OperationResponse { output, payload })
                    })
                }
            }
        });
        self.table.insert(Op::NAME, erased);
        self
    }

    /// Sets the handler of requests outside the AWS API (see [`Service::raw`]).
    pub fn raw(
        mut self,
        handler: impl Fn(&Arc<S>, &http::request::Parts, Body) -> Raw + Send + Sync + 'static,
    ) -> Self {
        self.raw = Some(Box::new(handler));
        self
    }

    /// The table as a service for the gateway.
    pub fn into_service(self) -> Arc<dyn Service> {
        Arc::new(self)
    }
}

impl<S: ServiceState> Service for Handlers<S> {
    fn model(&self) -> &'static ServiceModel {
        self.model
    }

    fn call(&self, op: &'static Operation, req: OperationRequest) -> BoxFuture<Result<OperationResponse>> {
        match self.table.get(op.name) {
            Some(handler) => handler(self.state.clone(), req.ctx, req.input, req.payload),
            None => {
                let err = AwsError::not_implemented(self.model.name, op.name);
                Box::pin(async move { Err(err) })
            }
        }
    }

    fn implemented(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.table.keys().copied().collect();
        names.sort_unstable();
        names
    }

    fn reset(&self) {
        self.state.reset();
    }

    fn stored_bytes(&self) -> u64 {
        self.state.stored_bytes()
    }

    fn gauges(&self) -> Vec<(&'static str, u64)> {
        self.state.gauges()
    }

    fn raw(&self, parts: &http::request::Parts, body: Body) -> Raw {
        match &self.raw {
            Some(handler) => handler(&self.state, parts, body),
            None => Raw::NotMine(body),
        }
    }
}
