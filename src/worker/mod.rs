//! The Web Worker's message loop: ready handshake, job dispatch, time slicing, cancel, and
//! panic reporting. All decisions about data and learners live in [`crate::jobs`].

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, ErrorEvent, MessageChannel, MessageEvent, Worker};

use crate::causal::sdcd::ShardReport;
use crate::infer::{time_gradients, InferRun};
use crate::jobs::{self, LearnRun};
use crate::protocol::{
    Event, Job, Request, Response, Shard, ToWorker, UserError, MAX_WORKERS, PROTOCOL_VERSION,
};
use crate::run::{Progress, StepOutcome};

/// Longest stretch of steps between two looks at the message queue (Cancel, new jobs).
const SLICE_MS: f64 = 40.0;
/// Progress events, and a learner's snapshots when it is not slowed down, are throttled to
/// about ten a second.
const PROGRESS_EVERY_MS: f64 = 100.0;
/// A learner's first progress event goes out this long after its start, so a job done sooner
/// posts only its result: the first post of a page took 1–3 ms (encoding the event, and the
/// page's own work after the Run click competing for the two cores), more than GES computes on
/// 10 variables.
const FIRST_PROGRESS_MS: f64 = 20.0;
/// Before a chain starts, its gradient is evaluated untimed for this long (a chance for the
/// engine to optimise the hot code), then timed for this long: ~15 ms per chain, in parallel.
const GRADIENT_WARMUP_MS: f64 = 5.0;
const GRADIENT_MEASURE_MS: f64 = 10.0;
/// Warm-up (`ToWorker::WarmUp`): each learner is stepped for about this long in all, in slices
/// of at most `WARM_SLICE_MS` so a job arriving meanwhile waits for one slice at most. With 25 ms
/// a first GES run on 1000 × 20 after the warm-up still took 11-29 ms (7 ms warm); with 100 ms
/// (0.6 s in all, then `Event::WarmedUp`) and a second's pause for V8's background compiler,
/// 8-12 ms; with the warm-up on 20 variables rather than 8 (`jobs::WarmUp`), 4-7 ms.
const WARM_PER_LEARNER_MS: f64 = 100.0;
const WARM_SLICE_MS: f64 = 5.0;

/// The job being stepped: a learner or one inference chain.
enum Run {
    Learn(LearnRun),
    Infer(Box<InferRun>),
}

impl Run {
    fn progress(&self) -> Progress {
        match self {
            Run::Learn(run) => run.progress(),
            Run::Infer(run) => run.progress(),
        }
    }
}

struct Running {
    job_id: u32,
    run: Run,
    /// A split job's shard (index 0: this worker leads, and its helpers run the others).
    shard: Shard,
    last_progress_ms: f64,
    /// When the job arrived, for the compute time reported with `Done`.
    started_ms: f64,
    /// Slow motion: pause after each new snapshot (0 = none); pauses are not compute time.
    pace_ms: f64,
    paused_ms: f64,
    /// No slice before this time (`now_ms`): the end of the current slow-motion pause. A slice
    /// scheduled earlier (the warm-up's, pending when the job arrived) finds it and waits.
    resume_at_ms: f64,
}

/// The channel whose message starts the next slice, and the callback that runs it.
type Ticker = (MessageChannel, Closure<dyn FnMut(MessageEvent)>);

thread_local! {
    static CURRENT: RefCell<Option<Running>> = const { RefCell::new(None) };
    static SLICE_PENDING: Cell<bool> = const { Cell::new(false) };
    /// The warm-up in progress, if any; cleared by the first job.
    static WARMING: RefCell<Option<jobs::WarmUp>> = const { RefCell::new(None) };
    /// The data set read last (by the preview's Inspect job, usually), for the runs on it.
    static DATA: RefCell<jobs::DataCache> = RefCell::new(jobs::DataCache::default());
    // A MessageChannel schedules the next slice without setTimeout's 4 ms clamp.
    static TICKER: RefCell<Option<Ticker>> =
        const { RefCell::new(None) };
    /// The helper workers this worker started for split jobs (see [`Helper`]).
    static HELPERS: RefCell<Vec<Helper>> = const { RefCell::new(Vec::new()) };
    /// Helpers terminated from inside one of their own callbacks, which must not be dropped
    /// while it runs; dropped when the next helper starts.
    static RETIRED: RefCell<Vec<Helper>> = const { RefCell::new(Vec::new()) };
    /// A leading worker's split job: its helpers' reports not yet used, with the helper's
    /// shard index, in arrival order.
    static REPORTS: RefCell<Vec<(u32, ShardReport)>> = const { RefCell::new(Vec::new()) };
}

/// A worker started by this one to run another shard of a split learning job (SDCD's stage 1
/// by variable): the same worker code, spoken to with the same protocol. Its reports come back
/// here; its progress and result are not needed (shard 0 has the whole run), and a crash of it
/// fails the job. Started at the warm-up (and warmed too) or at the first split job, and kept.
struct Helper {
    worker: Worker,
    ready: bool,
    queue: Vec<Request>,
    _callbacks: [Closure<dyn FnMut(JsValue)>; 2],
}

/// Starts helpers until there are `n`; returns how many there are (fewer if the browser
/// cannot start a worker from a worker).
fn ensure_helpers(n: usize) -> usize {
    RETIRED.with_borrow_mut(Vec::clear);
    while HELPERS.with_borrow(Vec::len) < n {
        let Ok(worker) = Worker::new("./worker_loader.js") else {
            break;
        };
        let index = HELPERS.with_borrow(Vec::len);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            helper_message(index, ev.unchecked_into::<MessageEvent>().data());
        });
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let message = ev
                .dyn_ref::<ErrorEvent>()
                .map(|e| e.message())
                .unwrap_or_else(|| "it stopped unexpectedly".to_string());
            helper_crashed(index, message);
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        HELPERS.with_borrow_mut(|h| {
            h.push(Helper {
                worker,
                ready: false,
                queue: Vec::new(),
                _callbacks: [on_message, on_error],
            })
        });
    }
    HELPERS.with_borrow(Vec::len)
}

/// Sends a message to helper `index` (queued until its ready handshake).
fn send_helper(index: usize, message: ToWorker) {
    let request = Request {
        version: PROTOCOL_VERSION,
        message,
    };
    HELPERS.with_borrow_mut(|helpers| {
        let Some(helper) = helpers.get_mut(index) else {
            return;
        };
        if !helper.ready {
            helper.queue.push(request);
            return;
        }
        if let Ok(value) = serde_wasm_bindgen::to_value(&request) {
            let _ = helper.worker.post_message(&value);
        }
    });
}

fn helper_message(index: usize, data: JsValue) {
    let response: Response = match serde_wasm_bindgen::from_value::<Response>(data) {
        Ok(r) if r.version == PROTOCOL_VERSION => r,
        Ok(r) => {
            return helper_crashed(index, format!("it speaks protocol {}", r.version));
        }
        Err(e) => return helper_crashed(index, format!("unreadable message: {e}")),
    };
    match response.event {
        Event::Ready => {
            let queued = HELPERS.with_borrow_mut(|helpers| {
                helpers.get_mut(index).map(|h| {
                    h.ready = true;
                    std::mem::take(&mut h.queue)
                })
            });
            for request in queued.unwrap_or_default() {
                send_helper(index, request.message);
            }
        }
        Event::Report { job_id, report } if current_job() == Some(job_id) => {
            REPORTS.with_borrow_mut(|r| r.push((index as u32 + 1, report)));
            schedule_slice();
        }
        Event::Failed { job_id, error } if current_job() == Some(job_id) => fail_current(error),
        Event::Panicked { message } => helper_crashed(index, message),
        // Its progress, estimates and result: shard 0 has the whole run.
        _ => {}
    }
}

/// A helper died: it is dropped (a new one starts with the next split job), and a split job
/// in progress fails, since its share is lost.
fn helper_crashed(index: usize, message: String) {
    let dead: Vec<Helper> = HELPERS.take();
    for helper in &dead {
        helper.worker.set_onmessage(None);
        helper.worker.set_onerror(None);
        helper.worker.terminate();
    }
    RETIRED.with_borrow_mut(|r| r.extend(dead));
    let split = CURRENT.with_borrow(|c| c.as_ref().is_some_and(|r| r.shard.count > 1));
    if split {
        fail_current(UserError::internal(format!(
            "the helper compute worker {} crashed: {message}",
            index + 1
        )));
    }
}

fn current_job() -> Option<u32> {
    CURRENT.with_borrow(|c| c.as_ref().map(|r| r.job_id))
}

/// Ends the current job with `error` (its helpers' shares are cancelled).
fn fail_current(error: UserError) {
    if let Some(running) = CURRENT.take() {
        cancel_helpers(running.job_id, running.shard);
        post(Event::Failed {
            job_id: running.job_id,
            error,
        });
    }
}

/// A leading worker's split job ends, or needs its helpers no more: they stop their shares.
fn cancel_helpers(job_id: u32, shard: Shard) {
    if shard.index == 0 && shard.count > 1 {
        for index in 0..shard.count as usize - 1 {
            send_helper(index, ToWorker::Cancel { job_id });
        }
    }
    REPORTS.with_borrow_mut(Vec::clear);
}

/// A leading worker at a report point of its split job: once every helper's report for it
/// has come, gives them to the run (and stops the helpers when the run needs them no more).
/// Returns false while it must wait.
fn take_reports(job_id: u32, shard: &mut Shard, run: &mut LearnRun) -> Result<bool, UserError> {
    let helpers = 1..shard.count;
    // Each helper's oldest report: its reports come in order, one per report point.
    let reports = REPORTS.with_borrow_mut(|all| {
        let has = |h: u32| all.iter().any(|(k, _)| *k == h);
        if !helpers.clone().all(has) {
            return None;
        }
        let take = |h: u32| {
            let at = all
                .iter()
                .position(|(k, _)| *k == h)
                .expect("checked above");
            all.remove(at).1
        };
        Some(helpers.map(take).collect::<Vec<_>>())
    });
    let Some(reports) = reports else {
        return Ok(false);
    };
    run.receive_reports(reports)
        .map_err(|e| UserError::internal(format!("the workers' reports disagree: {e}")))?;
    if !run.shards_needed() {
        cancel_helpers(job_id, *shard);
        shard.count = 1;
    }
    Ok(true)
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn now_ms() -> f64 {
    scope()
        .performance()
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

fn post(event: Event) {
    let response = Response {
        version: PROTOCOL_VERSION,
        event,
    };
    match serde_wasm_bindgen::to_value(&response) {
        Ok(value) => {
            let _ = scope().post_message(&value);
        }
        Err(e) => web_sys::console::error_1(&format!("cannot encode a worker event: {e}").into()),
    }
}

/// Entry point of the worker binary.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        post(Event::Panicked {
            message: info.to_string(),
        });
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| handle(ev.data()));
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(Event::Ready);
}

fn handle(data: JsValue) {
    let request: Request = match serde_wasm_bindgen::from_value(data) {
        Ok(request) => request,
        Err(e) => {
            post(Event::Failed {
                job_id: 0,
                error: UserError::internal(format!("the worker could not read a message: {e}")),
            });
            return;
        }
    };
    if request.version != PROTOCOL_VERSION {
        post(Event::Failed {
            job_id: 0,
            error: UserError::new(
                "Out-of-date page",
                format!(
                    "the page speaks protocol {} but the worker speaks {PROTOCOL_VERSION}",
                    request.version
                ),
                "Reload the page to load matching files.",
            ),
        });
        return;
    }
    match request.message {
        ToWorker::Start { job_id, job } => {
            cancel_current();
            if !matches!(*job, Job::Inspect { .. }) {
                WARMING.set(None);
            }
            start_job(job_id, *job);
        }
        ToWorker::WarmUp { helpers } => {
            // The helpers (for split jobs later) start and warm up alongside.
            let n = ensure_helpers(helpers.min(MAX_WORKERS - 1) as usize);
            for index in 0..n {
                send_helper(index, ToWorker::WarmUp { helpers: 0 });
            }
            if CURRENT.with_borrow(Option::is_none) {
                WARMING.set(jobs::WarmUp::new());
                schedule_slice();
            }
        }
        ToWorker::PanicForTest { helper: true } => {
            send_helper(0, ToWorker::PanicForTest { helper: false })
        }
        ToWorker::PanicForTest { helper: false } => {
            panic!("deliberate panic requested by a self-test")
        }
        ToWorker::Cancel { job_id } => {
            let current = CURRENT.with_borrow(|c| c.as_ref().map(|r| r.job_id));
            if current == Some(job_id) {
                cancel_current();
            }
        }
    }
}

fn cancel_current() {
    if let Some(running) = CURRENT.take() {
        cancel_helpers(running.job_id, running.shard);
        post(Event::Cancelled {
            job_id: running.job_id,
        });
    }
}

fn start_job(job_id: u32, job: Job) {
    match job {
        Job::Inspect { data } => match DATA.with_borrow_mut(|cache| cache.inspect(data)) {
            Ok(inspection) => post(Event::Inspected { job_id, inspection }),
            Err(error) => post(Event::Failed { job_id, error }),
        },
        Job::Learn {
            data,
            prep,
            algorithm,
            knowledge,
            pace_ms,
            shard,
        } => {
            let started_ms = now_ms();
            // A leading worker offers a learner that splits as many shards as it has helpers
            // for (the learner may take fewer, [`LearnRun::shards`]). Slowed down, a run stays
            // in one worker: a helper would only run ahead of what is shown.
            let mut offer = shard;
            if shard.index == 0 {
                offer.count = if shard.count > 1 && pace_ms == 0 && algorithm.splits() {
                    1 + ensure_helpers(shard.count.min(MAX_WORKERS) as usize - 1) as u32
                } else {
                    1
                };
            }
            let helper_data = (offer.count > 1 && offer.index == 0).then(|| data.clone());
            let started = DATA.with_borrow_mut(|cache| {
                LearnRun::start_shard(cache, data, &prep, &algorithm, &knowledge, offer)
            });
            let run = match started {
                Ok(run) => run,
                Err(error) => return post(Event::Failed { job_id, error }),
            };
            let shard = Shard {
                index: offer.index,
                count: run.shards() as u32,
            };
            if let Some(data) = &helper_data {
                for index in 1..shard.count {
                    let job = Job::Learn {
                        data: data.clone(),
                        prep: prep.clone(),
                        algorithm: algorithm.clone(),
                        knowledge: knowledge.clone(),
                        pace_ms: 0,
                        shard: Shard {
                            index,
                            count: shard.count,
                        },
                    };
                    send_helper(
                        index as usize - 1,
                        ToWorker::Start {
                            job_id,
                            job: Box::new(job),
                        },
                    );
                }
            }
            start_learning(job_id, run, shard, started_ms, pace_ms);
        }
        Job::Infer {
            model,
            data,
            prep,
            method,
            chain,
        } => match (
            now_ms(),
            InferRun::start(&model, data.as_ref(), &prep, &method, chain),
        ) {
            (started_ms, Ok(mut run)) => {
                post(Event::Progress {
                    job_id,
                    progress: run.progress(),
                });
                let cost =
                    time_gradients(&mut run, now_ms, GRADIENT_WARMUP_MS, GRADIENT_MEASURE_MS);
                post(Event::GradientCost {
                    job_id,
                    chain,
                    seconds: cost.seconds,
                });
                CURRENT.set(Some(Running {
                    job_id,
                    run: Run::Infer(Box::new(run)),
                    shard: Shard::default(),
                    last_progress_ms: now_ms(),
                    started_ms,
                    pace_ms: 0.0,
                    paused_ms: 0.0,
                    resume_at_ms: 0.0,
                }));
                schedule_slice();
            }
            (_, Err(error)) => post(Event::Failed { job_id, error }),
        },
    }
}

/// Makes `run` the current job and starts stepping it.
fn start_learning(job_id: u32, mut run: LearnRun, shard: Shard, started_ms: f64, pace_ms: u32) {
    let pace_ms = f64::from(pace_ms.min(10_000));
    // Slowed down, the first progress and the starting estimate (PC's complete graph, say)
    // are shown at once, for a pause. At full speed the first slice starts now, and the first
    // progress and snapshot follow FIRST_PROGRESS_MS later (a GES or PC run of a few
    // milliseconds then posts only its result).
    let mut pause_ms = 0.0;
    let mut last_progress_ms = now_ms() - (PROGRESS_EVERY_MS - FIRST_PROGRESS_MS);
    if pace_ms > 0.0 {
        post(Event::Progress {
            job_id,
            progress: run.progress(),
        });
        last_progress_ms = now_ms();
        if let Some(snapshot) = run.fresh_snapshot() {
            post(Event::Partial { job_id, snapshot });
            pause_ms = pace_ms;
        }
    }
    REPORTS.with_borrow_mut(Vec::clear);
    CURRENT.set(Some(Running {
        job_id,
        run: Run::Learn(run),
        shard,
        last_progress_ms,
        started_ms,
        pace_ms,
        paused_ms: pause_ms,
        resume_at_ms: now_ms() + pause_ms,
    }));
    if pause_ms > 0.0 {
        schedule_slice_after(pause_ms);
    } else {
        run_slice();
    }
}

/// A learner's estimate (with the curve points since the last one), when it changed.
fn snapshot_event(job_id: u32, run: &mut LearnRun) -> Option<Event> {
    let snapshot = run.fresh_snapshot()?;
    Some(Event::Partial { job_id, snapshot })
}

/// The draws an inference chain made since its last batch, as one event.
fn draws_event(job_id: u32, run: &mut InferRun) -> Option<Event> {
    let (offset, draws, elbo) = run.fresh_draws()?;
    Some(Event::Draws {
        job_id,
        chain: run.chain(),
        param_names: run.param_names().to_vec(),
        offset: u32::try_from(offset).unwrap_or(u32::MAX),
        draws,
        elbo,
    })
}

fn schedule_slice() {
    if SLICE_PENDING.replace(true) {
        return;
    }
    TICKER.with_borrow_mut(|ticker| {
        if ticker.is_none() {
            let Ok(channel) = MessageChannel::new() else {
                return;
            };
            let tick = Closure::<dyn FnMut(MessageEvent)>::new(|_: MessageEvent| {
                SLICE_PENDING.set(false);
                run_slice();
            });
            channel
                .port2()
                .set_onmessage(Some(tick.as_ref().unchecked_ref()));
            *ticker = Some((channel, tick));
        }
        if let Some((channel, _)) = ticker.as_ref() {
            let _ = channel.port1().post_message(&JsValue::NULL);
        }
    });
}

/// Steps the current job for up to [`SLICE_MS`], posting what the page should see.
fn run_slice() {
    let Some(resume_at_ms) = CURRENT.with_borrow(|c| c.as_ref().map(|r| r.resume_at_ms)) else {
        warm_slice();
        return;
    };
    let early_ms = resume_at_ms - now_ms();
    if early_ms > 0.0 {
        schedule_slice_after(early_ms);
        return;
    }
    let started = now_ms();
    let mut events = Vec::new();
    // Slow motion: the slice ends after a new snapshot, and the next starts after this pause.
    let mut pause_ms = 0.0;
    let more = CURRENT.with_borrow_mut(|current| {
        let Some(running) = current.as_mut() else {
            return false;
        };
        let job_id = running.job_id;
        loop {
            let finished = match &mut running.run {
                Run::Learn(run) => {
                    if run.awaits_reports() {
                        match take_reports(job_id, &mut running.shard, run) {
                            Ok(true) => {}
                            // A helper's report wakes this worker (`schedule_slice`).
                            Ok(false) => return false,
                            Err(error) => {
                                cancel_helpers(job_id, running.shard);
                                events.push(Event::Failed { job_id, error });
                                *current = None;
                                return false;
                            }
                        }
                    }
                    let outcome = run.step();
                    // A helper's reports go out at once: its leader may be waiting for them.
                    while let Some(report) = run.take_report() {
                        post(Event::Report { job_id, report });
                    }
                    if running.pace_ms > 0.0 {
                        if let Some(snapshot) = run.fresh_snapshot() {
                            events.push(Event::Partial { job_id, snapshot });
                            pause_ms = running.pace_ms;
                        }
                    } else {
                        // Snapshots go with progress, about ten a second (below); an SDCD
                        // epoch can take 3 ms, and drawing every one kept the page seconds
                        // behind the worker.
                        run.note_step();
                    }
                    matches!(outcome, StepOutcome::Finished(_))
                }
                Run::Infer(run) => match run.step() {
                    Ok(outcome) => matches!(outcome, StepOutcome::Finished(_)),
                    Err(error) => {
                        events.push(Event::Failed { job_id, error });
                        *current = None;
                        return false;
                    }
                },
            };
            if finished {
                let done = Progress {
                    fraction: 1.0,
                    label: "done".to_string(),
                };
                let compute_ms = now_ms() - running.started_ms - running.paused_ms;
                match &mut running.run {
                    Run::Learn(run) => {
                        events.extend(snapshot_event(job_id, run));
                        events.push(Event::Progress {
                            job_id,
                            progress: done,
                        });
                        events.push(Event::Done {
                            job_id,
                            result: run.result(),
                            compute_ms,
                        });
                    }
                    Run::Infer(run) => {
                        events.extend(draws_event(job_id, run));
                        events.push(Event::Progress {
                            job_id,
                            progress: done,
                        });
                        events.push(Event::InferDone {
                            job_id,
                            chain: run.chain(),
                            result: Box::new(run.result()),
                            compute_ms,
                        });
                    }
                }
                *current = None;
                return false;
            }
            let now = now_ms();
            // A helper's progress and estimates would go to its leader, which has the whole
            // run's.
            if now - running.last_progress_ms >= PROGRESS_EVERY_MS && running.shard.index == 0 {
                if let Run::Learn(run) = &mut running.run {
                    events.extend(snapshot_event(job_id, run));
                }
                events.push(Event::Progress {
                    job_id,
                    progress: running.run.progress(),
                });
                running.last_progress_ms = now;
            }
            if pause_ms > 0.0 {
                events.push(Event::Progress {
                    job_id,
                    progress: running.run.progress(),
                });
                running.last_progress_ms = now;
                running.paused_ms += pause_ms;
                running.resume_at_ms = now + pause_ms;
                return true;
            }
            if now - started >= SLICE_MS {
                if let Run::Infer(run) = &mut running.run {
                    events.extend(draws_event(job_id, run));
                }
                return true;
            }
        }
    });
    for event in events {
        post(event);
    }
    if more {
        schedule_slice_after(pause_ms);
    }
}

/// The next slice after `ms` (slow motion), or at once when `ms` is 0. A Cancel arriving
/// meanwhile clears the job, and the slice then finds nothing to do.
fn schedule_slice_after(ms: f64) {
    if ms <= 0.0 {
        schedule_slice();
        return;
    }
    if SLICE_PENDING.replace(true) {
        return;
    }
    let tick = Closure::once_into_js(|| {
        SLICE_PENDING.set(false);
        run_slice();
    });
    if scope()
        .set_timeout_with_callback_and_timeout_and_arguments_0(tick.unchecked_ref(), ms as i32)
        .is_err()
    {
        SLICE_PENDING.set(false);
        schedule_slice();
    }
}

/// One slice of warm-up (at most [`WARM_SLICE_MS`]); posts `WarmedUp` after the last.
fn warm_slice() {
    // None when there is no warm-up (never asked for, or dropped by a job).
    let more = WARMING.with_borrow_mut(|warming| {
        let more = warming
            .as_mut()?
            .step(now_ms, WARM_SLICE_MS, WARM_PER_LEARNER_MS);
        if !more {
            *warming = None;
        }
        Some(more)
    });
    match more {
        Some(true) => schedule_slice(),
        Some(false) => post(Event::WarmedUp),
        None => {}
    }
}
