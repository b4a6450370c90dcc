//! The page's side of the worker protocol: spawns the worker, queues jobs until its ready
//! handshake, delivers its events, and replaces it when it crashes or ignores a Cancel.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::protocol::{Event, Job, Request, Response, ToWorker, UserError, PROTOCOL_VERSION};

/// How long a cooperative Cancel may take before the worker is terminated and replaced.
const CANCEL_GRACE_MS: i32 = 1500;

/// The worker script Trunk emits for the `worker` binary; relative, so the site works under any
/// sub-path.
const WORKER_URL: &str = "./worker_loader.js";

type Handler = Rc<dyn Fn(Event)>;
type Callback = Closure<dyn FnMut(JsValue)>;

pub struct WorkerClient {
    worker: RefCell<Option<Worker>>,
    ready: Cell<bool>,
    queue: RefCell<Vec<Request>>,
    handler: Handler,
    next_job_id: Cell<u32>,
    /// Jobs sent and not yet answered by a final event (Inspected, Done, Failed, Cancelled).
    active: RefCell<Vec<u32>>,
    /// Set by `?selftest=worker-panic` (false) or `?selftest=helper-panic` (true): the next
    /// learning job is followed by a deliberate panic of the worker or of its first helper.
    panic_for_test: Cell<Option<bool>>,
    /// Keeps the current worker's callbacks alive.
    callbacks: RefCell<Vec<Callback>>,
}

impl WorkerClient {
    pub fn new(handler: impl Fn(Event) + 'static) -> Rc<Self> {
        let client = Rc::new(WorkerClient {
            worker: RefCell::new(None),
            ready: Cell::new(false),
            queue: RefCell::new(Vec::new()),
            handler: Rc::new(handler),
            next_job_id: Cell::new(1),
            active: RefCell::new(Vec::new()),
            panic_for_test: Cell::new(
                web_sys::window()
                    .and_then(|w| w.location().search().ok())
                    .and_then(|q| {
                        if q.contains("selftest=worker-panic") {
                            Some(false)
                        } else if q.contains("selftest=helper-panic") {
                            Some(true)
                        } else {
                            None
                        }
                    }),
            ),
            callbacks: RefCell::new(Vec::new()),
        });
        client.spawn();
        client
    }

    fn spawn(self: &Rc<Self>) {
        let worker = match Worker::new(WORKER_URL) {
            Ok(worker) => worker,
            Err(e) => {
                (self.handler)(Event::Failed {
                    job_id: 0,
                    error: UserError::new(
                        "The compute worker could not start",
                        format!("{e:?}"),
                        "Causeway needs a browser with Web Workers and WebAssembly (any current \
                         Chrome, Firefox, Safari or Edge). Reload the page to try again.",
                    ),
                });
                return;
            }
        };
        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            if let Some(client) = weak.upgrade() {
                let data = ev.unchecked_into::<MessageEvent>().data();
                client.receive(data);
            }
        });
        let weak = Rc::downgrade(self);
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let message = ev
                .dyn_ref::<ErrorEvent>()
                .map(|e| e.message())
                .unwrap_or_else(|| "the worker stopped unexpectedly".to_string());
            if let Some(client) = weak.upgrade() {
                client.crashed(message);
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *self.callbacks.borrow_mut() = vec![on_message, on_error];
        self.ready.set(false);
        *self.worker.borrow_mut() = Some(worker);
    }

    fn replace_worker(self: &Rc<Self>) {
        if let Some(old) = self.worker.borrow_mut().take() {
            old.set_onmessage(None);
            old.set_onerror(None);
            old.terminate();
        }
        self.spawn();
    }

    fn receive(self: &Rc<Self>, data: JsValue) {
        let response: Response = match serde_wasm_bindgen::from_value(data) {
            Ok(r) => r,
            Err(e) => return self.crashed(format!("unreadable message from the worker: {e}")),
        };
        if response.version != PROTOCOL_VERSION {
            return self.crashed(format!(
                "the worker speaks protocol {} but the page speaks {PROTOCOL_VERSION}; reload",
                response.version
            ));
        }
        match response.event {
            Event::Ready => {
                self.ready.set(true);
                let queued: Vec<Request> = self.queue.borrow_mut().drain(..).collect();
                for request in queued {
                    self.post(&request);
                }
            }
            Event::Panicked { message } => self.crashed(message),
            event => {
                if let Some(job_id) = final_job_id(&event) {
                    self.active.borrow_mut().retain(|&id| id != job_id);
                }
                (self.handler)(event);
            }
        }
    }

    /// A panic or a dead worker: every job in flight fails, and a fresh worker takes over.
    fn crashed(self: &Rc<Self>, message: String) {
        let jobs: Vec<u32> = self.active.borrow_mut().drain(..).collect();
        self.queue.borrow_mut().clear();
        self.replace_worker();
        for job_id in jobs {
            (self.handler)(Event::Failed {
                job_id,
                error: UserError::internal(format!("the compute worker crashed: {message}")),
            });
        }
    }

    fn post(&self, request: &Request) {
        let Some(worker) = self.worker.borrow().clone() else {
            return;
        };
        match serde_wasm_bindgen::to_value(request) {
            Ok(value) => {
                let _ = worker.post_message(&value);
            }
            Err(e) => web_sys::console::error_1(&format!("cannot encode a job: {e}").into()),
        }
    }

    fn send(&self, message: ToWorker) {
        let request = Request {
            version: PROTOCOL_VERSION,
            message,
        };
        if self.ready.get() {
            self.post(&request);
        } else {
            self.queue.borrow_mut().push(request);
        }
    }

    /// Asks the worker to warm its learners' code up until the first job (see
    /// `jobs::WarmUp`); the Discover tab's worker gets this, the chain workers do not. It
    /// starts and warms `helpers` helper workers of its own for split jobs.
    pub fn warm_up(&self, helpers: u32) {
        self.send(ToWorker::WarmUp { helpers });
    }

    /// Starts a job (the worker drops any job it is running) and returns its id.
    pub fn start(&self, job: Job) -> u32 {
        let job_id = self.next_job_id.get();
        self.next_job_id.set(job_id + 1);
        self.active.borrow_mut().push(job_id);
        let learning = matches!(job, Job::Learn { .. });
        self.send(ToWorker::Start {
            job_id,
            job: Box::new(job),
        });
        if let (true, Some(helper)) = (learning, self.panic_for_test.get()) {
            self.panic_for_test.set(None);
            self.send(ToWorker::PanicForTest { helper });
        }
        job_id
    }

    /// Asks the worker to stop the job; if it has not confirmed within the grace period, the
    /// worker is terminated and replaced, and the page is told the job was cancelled.
    pub fn cancel(self: &Rc<Self>, job_id: u32) {
        if !self.active.borrow().contains(&job_id) {
            return;
        }
        self.send(ToWorker::Cancel { job_id });
        let weak = Rc::downgrade(self);
        let fallback = Closure::once_into_js(move || {
            let Some(client) = weak.upgrade() else { return };
            if client.active.borrow().contains(&job_id) {
                let others: Vec<u32> = client
                    .active
                    .borrow()
                    .iter()
                    .copied()
                    .filter(|&id| id != job_id)
                    .collect();
                client.active.borrow_mut().clear();
                client.replace_worker();
                (client.handler)(Event::Cancelled { job_id });
                for other in others {
                    (client.handler)(Event::Failed {
                        job_id: other,
                        error: UserError::new(
                            "Interrupted",
                            "the worker was restarted to stop a run",
                            "Try again.",
                        ),
                    });
                }
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                fallback.unchecked_ref(),
                CANCEL_GRACE_MS,
            );
        }
    }
}

fn final_job_id(event: &Event) -> Option<u32> {
    match event {
        Event::Inspected { job_id, .. }
        | Event::Done { job_id, .. }
        | Event::InferDone { job_id, .. }
        | Event::Failed { job_id, .. }
        | Event::Cancelled { job_id } => Some(*job_id),
        _ => None,
    }
}
