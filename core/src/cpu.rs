//! CPU shares that follow the cell tree.
//!
//! Every cell runs on the node's one thread, next to the control plane
//! (the RPC servers of providers, the terminal, remote shells, libp2p).
//! Two things decide who gets that thread:
//!
//! - **Time slices** ([`limits::time_slices`](crate::limits::time_slices)):
//!   a running cell yields at every engine tick, so no cell holds the
//!   thread for longer than a tick at a time (the first slice after a
//!   stretch with no cell running may last up to
//!   [`engine::IDLE_TICK`](crate::engine::IDLE_TICK)).
//! - **This scheduler**: a cell may run only when the scheduler lets it.
//!   Each cell's execution is wrapped in [`Share::run`]; when several cells
//!   are ready, the one whose place in the tree has used the least CPU
//!   lately runs next, and the next one is only chosen once the runtime
//!   has polled its I/O drivers and run its other ready tasks. So between
//!   two guest slices the control plane always gets its turn: a remote
//!   shell waits for at most one slice per hop, however many cells spin.
//!
//! Shares are hierarchical, like cgroups' CPU shares: a cell and all its
//! descendants form one group, which competes with its siblings as one. At
//! each level the group with the least *recent* use (CPU seconds decayed
//! with a half-life of [`HALF_LIFE`]) wins; within a cell's group, its own
//! code is one more member beside its children's groups. So 64 spinning
//! children of one service cost the rest of the node what one spinner
//! costs, and a mostly idle cell (the kernel answering a shell) runs as
//! soon as the slice in progress ends.
//!
//! The time a cell runs (every poll of its execution, host calls made from
//! it included) is measured and charged to it, and so is the time of every
//! poll of its RPC vat ([`Share::charged`]): reading its messages, and the
//! servers its calls run in, providers included, since capnp-rpc drives
//! them inside the vat's task. That measure is the cell's CPU use as
//! reported ([`Share::used`]), what its CPU budget is checked against
//! ([`Meter`]) and what its group's share is weighed by; a cell cannot
//! escape its budget or its share by making the node work for it. The vat
//! is never held back for a turn: the control plane does not wait behind
//! guests. Work on tasks a provider spawns for itself is not charged.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How fast past CPU use is forgotten when groups are compared: use this
/// long ago counts half. Long enough that shares hold over many slices,
/// short enough that a group busy a while ago is not held back for long.
pub const HALF_LIFE: Duration = Duration::from_millis(500);

/// One node of the tree: a cell's whole group, or the cell's own code.
struct Group {
    id: u64,
    depth: u32,
    parent: Option<Rc<Group>>,
    children: RefCell<Vec<Weak<Group>>>,
    // CPU seconds, decayed to `stamp`.
    usage: Cell<f64>,
    stamp: Cell<Instant>,
}

impl Group {
    fn root(now: Instant) -> Rc<Group> {
        Rc::new(Group {
            id: 0,
            depth: 0,
            parent: None,
            children: RefCell::new(Vec::new()),
            usage: Cell::new(0.0),
            stamp: Cell::new(now),
        })
    }

    /// A new child of `parent`. It starts as used as the most used of its
    /// siblings, not at zero: a newcomer with no past would otherwise run
    /// before its busy siblings until it caught up with them (up to
    /// `HALF_LIFE / ln 2` seconds of a sibling's CPU), and a cell could
    /// keep its children ahead by spawning new ones. With the most used
    /// sibling's figure it shares the thread with the busy ones at once.
    fn child(id: u64, parent: &Rc<Group>, now: Instant) -> Rc<Group> {
        let mut children = parent.children.borrow_mut();
        children.retain(|c| c.strong_count() > 0);
        let usage = children
            .iter()
            .filter_map(Weak::upgrade)
            .map(|c| c.recent(now))
            .fold(0.0, f64::max);
        let group = Rc::new(Group {
            id,
            depth: parent.depth + 1,
            parent: Some(parent.clone()),
            children: RefCell::new(Vec::new()),
            usage: Cell::new(usage),
            stamp: Cell::new(now),
        });
        children.push(Rc::downgrade(&group));
        group
    }

    /// Recent use as of `now`.
    fn recent(&self, now: Instant) -> f64 {
        let age = now
            .saturating_duration_since(self.stamp.get())
            .as_secs_f64();
        self.usage.get() * (-age / HALF_LIFE.as_secs_f64()).exp2()
    }

    fn charge(&self, now: Instant, seconds: f64) {
        self.usage.set(self.recent(now) + seconds);
        self.stamp.set(now);
    }
}

/// Whether the cell whose own node is `a` should run before the one whose
/// own node is `b`: compare the two groups, one on each side, that are
/// siblings (the first level where their paths from the root part).
/// Lexicographic on those paths, so a total order at any one `now`.
fn runs_before(a: &Rc<Group>, b: &Rc<Group>, now: Instant) -> bool {
    let (mut x, mut y) = (a, b);
    while x.depth > y.depth {
        x = x.parent.as_ref().expect("a deeper node has a parent");
    }
    while y.depth > x.depth {
        y = y.parent.as_ref().expect("a deeper node has a parent");
    }
    if Rc::ptr_eq(x, y) {
        return a.id < b.id;
    }
    loop {
        match (&x.parent, &y.parent) {
            (Some(px), Some(py)) if !Rc::ptr_eq(px, py) => {
                x = px;
                y = py;
            }
            _ => break,
        }
    }
    let (ux, uy) = (x.recent(now), y.recent(now));
    ux < uy || (ux == uy && x.id < y.id)
}

struct Waiter {
    own: Rc<Group>,
    waker: Waker,
}

/// Whose turn it is to use the thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    /// No cell has used up a slice since the last choice: a cell that is
    /// ready runs at once (a cell that blocks on I/O before its slice ends
    /// never waits for the scheduler).
    Open,
    /// A cell used up its slice (or cells are waiting): the next to run is
    /// chosen once the runtime has polled its drivers and run its other
    /// ready tasks.
    Closed,
    /// This cell (its own node's id) runs next.
    Granted(u64),
}

struct State {
    root: Rc<Group>,
    // The same as `running`, for the engine's ticker thread.
    busy: Busy,
    next_id: Cell<u64>,
    turn: Cell<Turn>,
    // A cell is running now (the thread is inside its poll).
    running: Cell<bool>,
    // Cells ready to run, waiting for their turn. Empty while `Open`.
    waiting: RefCell<Vec<Waiter>>,
    // A task that will choose the next cell is on its way.
    choosing: Cell<bool>,
}

impl State {
    fn id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// Whether the cell `own` may run now; if not, it waits (woken by
    /// `waker` when its turn comes).
    fn admit(self: &Rc<Self>, own: &Rc<Group>, waker: &Waker) -> bool {
        if self.running.get() {
            // Polled from inside another cell's poll (not something the
            // node does): run it as part of that slice.
            return true;
        }
        match self.turn.get() {
            Turn::Open => true,
            Turn::Granted(id) if id == own.id => {
                self.turn.set(Turn::Closed);
                self.leave_queue(own.id);
                true
            }
            Turn::Granted(_) | Turn::Closed => {
                self.wait(own, waker);
                self.choose_soon();
                false
            }
        }
    }

    /// After a cell's poll: if it used up its slice, or others wait, the
    /// next cell is chosen later; if it only blocked, the turn stays open.
    fn after_run(self: &Rc<Self>, sliced: bool) {
        if sliced || !self.waiting.borrow().is_empty() {
            self.turn.set(Turn::Closed);
            self.choose_soon();
        } else {
            self.turn.set(Turn::Open);
        }
    }

    fn wait(&self, own: &Rc<Group>, waker: &Waker) {
        let mut waiting = self.waiting.borrow_mut();
        match waiting.iter_mut().find(|w| w.own.id == own.id) {
            Some(w) => w.waker.clone_from(waker),
            None => waiting.push(Waiter {
                own: own.clone(),
                waker: waker.clone(),
            }),
        }
    }

    fn leave_queue(&self, id: u64) {
        self.waiting.borrow_mut().retain(|w| w.own.id != id);
    }

    /// Chooses the next cell once the runtime has run everything else that
    /// is ready and polled its drivers (`yield_now` defers the wake-up to
    /// then): the control plane's turn comes between any two slices.
    fn choose_soon(self: &Rc<Self>) {
        if self.choosing.get() {
            return;
        }
        self.choosing.set(true);
        let state = self.clone();
        tokio::task::spawn_local(async move {
            tokio::task::yield_now().await;
            state.choosing.set(false);
            state.choose();
        });
    }

    fn choose(&self) {
        if matches!(self.turn.get(), Turn::Granted(_)) {
            return;
        }
        let now = Instant::now();
        let mut waiting = self.waiting.borrow_mut();
        let Some(best) = (0..waiting.len()).reduce(|best, i| {
            if runs_before(&waiting[i].own, &waiting[best].own, now) {
                i
            } else {
                best
            }
        }) else {
            self.turn.set(Turn::Open);
            return;
        };
        let chosen = waiting.swap_remove(best);
        self.turn.set(Turn::Granted(chosen.own.id));
        drop(waiting);
        chosen.waker.wake();
    }

    /// Charges `spent` to `own` and every group above it (the root, shared
    /// by all, is left out).
    fn charge(&self, own: &Rc<Group>, now: Instant, spent: Duration) {
        let seconds = spent.as_secs_f64();
        let mut node = Some(own);
        while let Some(group) = node {
            if group.parent.is_none() {
                break;
            }
            group.charge(now, seconds);
            node = group.parent.as_ref();
        }
    }

    fn forget(self: &Rc<Self>, id: u64) {
        self.leave_queue(id);
        if self.turn.get() == Turn::Granted(id) {
            self.turn.set(Turn::Closed);
            self.choose_soon();
        }
    }
}

/// The node's CPU scheduler: one per node, on the node's thread.
pub struct Scheduler {
    state: Rc<State>,
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    /// A scheduler with an empty tree.
    pub fn new() -> Scheduler {
        let now = Instant::now();
        Scheduler {
            state: Rc::new(State {
                root: Group::root(now),
                next_id: Cell::new(1),
                turn: Cell::new(Turn::Open),
                running: Cell::new(false),
                busy: Busy::default(),
                waiting: RefCell::new(Vec::new()),
                choosing: Cell::new(false),
            }),
        }
    }

    /// Whether a cell's code is on the node's thread, as the engine's ticker
    /// sees it.
    pub fn busy(&self) -> Busy {
        self.state.busy.clone()
    }

    /// The place of a top-level cell (pid0, or a cell started on behalf of
    /// no cell): a child of the tree's root.
    pub fn top(&self, name: &str) -> Share {
        Share::under(&self.state, &self.state.root, name)
    }
}

/// A cell's place in the tree: the group of the cell and its descendants,
/// the cell's own code within it, and the meter of its CPU time.
#[derive(Clone)]
pub struct Share {
    inner: Rc<ShareInner>,
}

struct ShareInner {
    state: Rc<State>,
    name: String,
    group: Rc<Group>,
    own: Rc<Group>,
    meter: Arc<Meter>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("name", &self.inner.name)
            .field("depth", &self.inner.group.depth)
            .field("used", &self.used())
            .finish()
    }
}

impl Share {
    fn under(state: &Rc<State>, parent: &Rc<Group>, name: &str) -> Share {
        let now = Instant::now();
        let group = Group::child(state.id(), parent, now);
        let own = Group::child(state.id(), &group, now);
        Share {
            inner: Rc::new(ShareInner {
                state: state.clone(),
                name: name.to_string(),
                group,
                own,
                meter: Arc::new(Meter::default()),
            }),
        }
    }

    /// The place of a child of this cell: a group inside this cell's.
    pub fn child(&self, name: &str) -> Share {
        Share::under(&self.inner.state, &self.inner.group, name)
    }

    /// The cell's name, as logs show it.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// CPU time the cell has used so far: its own code's and its vat's.
    pub fn used(&self) -> Duration {
        self.inner.meter.used()
    }

    /// Runs `work`, the node's work for this cell on a task of its own
    /// (the cell's RPC vat), charged to this cell as its own code is, but
    /// polled whenever it is ready: never held back for a turn.
    pub fn charged<F: Future>(&self, work: F) -> Charged<F> {
        Charged {
            share: self.clone(),
            work: Box::pin(work),
        }
    }

    /// Charges `spent`, CPU time the cell used off the node's thread (a
    /// native cell's own process), to the cell and the groups above it, as
    /// if it had run here: it counts in its budget, its use as reported,
    /// and its group's share.
    pub fn charge(&self, spent: Duration) {
        let share = &self.inner;
        share.meter.add(spent);
        share.state.charge(&share.own, Instant::now(), spent);
    }

    /// The meter the cell's store checks its CPU budget against.
    pub fn meter(&self) -> Arc<Meter> {
        self.inner.meter.clone()
    }

    /// Runs `execution` (everything the cell's code does) as this cell:
    /// each poll waits for the cell's turn, and its time is charged here.
    pub fn run<F: Future>(&self, execution: F) -> Fair<F> {
        Fair {
            share: self.clone(),
            execution: Box::pin(execution),
        }
    }
}

/// A cell's execution, run by turns (see [`Share::run`]).
pub struct Fair<F> {
    share: Share,
    execution: Pin<Box<F>>,
}

impl<F: Future> Future for Fair<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let share = self.share.inner.clone();
        let state = &share.state;
        if !state.admit(&share.own, cx.waker()) {
            return Poll::Pending;
        }
        let nested = state.running.replace(true);
        if !nested {
            state.busy.set(true);
        }
        let start = Instant::now();
        share.meter.start(start);
        let polled = self.execution.as_mut().poll(cx);
        let end = Instant::now();
        share.meter.stop(end);
        state.running.set(nested);
        if !nested {
            state.busy.set(false);
            state.charge(&share.own, end, end.saturating_duration_since(start));
            state.after_run(share.meter.take_slice_end());
        }
        polled
    }
}

impl<F> Drop for Fair<F> {
    fn drop(&mut self) {
        let share = &self.share.inner;
        share.state.forget(share.own.id);
    }
}

/// Work done for a cell on another task, charged to it (see
/// [`Share::charged`]).
pub struct Charged<F> {
    share: Share,
    work: Pin<Box<F>>,
}

impl<F: Future> Future for Charged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let share = self.share.inner.clone();
        let start = Instant::now();
        let polled = self.work.as_mut().poll(cx);
        // Polled inside a cell's run, the time is that run's already.
        if !share.state.running.get() {
            let end = Instant::now();
            let spent = end.saturating_duration_since(start);
            share.meter.add(spent);
            share.state.charge(&share.own, end, spent);
        }
        polled
    }
}

/// Whether a cell's code is running on the node's thread: set around each
/// run of a cell, read by the engine's ticker, which has no time slice to
/// end while it is not.
#[derive(Clone, Debug, Default)]
pub struct Busy(Arc<AtomicBool>);

impl Busy {
    fn set(&self, running: bool) {
        self.0.store(running, Ordering::Relaxed);
    }

    /// Whether a cell is running now.
    pub fn running(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The CPU time of one cell: what its runs were charged, plus the run in
/// progress. Shared with the cell's store, whose epoch callback checks the
/// cell's budget against it (on the same thread, but the callback must be
/// `Send`).
#[derive(Debug)]
pub struct Meter {
    origin: Instant,
    // Nanoseconds charged for finished runs.
    used: AtomicU64,
    // Nanoseconds since `origin` when the run in progress began; `IDLE`
    // when none is.
    since: AtomicU64,
    // The cell yielded at the end of a time slice during the run.
    sliced: AtomicBool,
}

const IDLE: u64 = u64::MAX;

impl Default for Meter {
    fn default() -> Self {
        Meter {
            origin: Instant::now(),
            used: AtomicU64::new(0),
            since: AtomicU64::new(IDLE),
            sliced: AtomicBool::new(false),
        }
    }
}

impl Meter {
    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64
    }

    fn start(&self, at: Instant) {
        self.since.store(self.nanos(at), Ordering::Relaxed);
    }

    fn stop(&self, at: Instant) {
        let since = self.since.swap(IDLE, Ordering::Relaxed);
        if since != IDLE {
            let spent = self.nanos(at).saturating_sub(since);
            self.used.fetch_add(spent, Ordering::Relaxed);
        }
    }

    /// Adds time spent for the cell outside its runs (its vat's).
    fn add(&self, spent: Duration) {
        let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        self.used.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Notes that the cell yields because its time slice ended (the
    /// store's epoch callback calls this), not because it waits for I/O.
    pub fn slice_ended(&self) {
        self.sliced.store(true, Ordering::Relaxed);
    }

    fn take_slice_end(&self) -> bool {
        self.sliced.swap(false, Ordering::Relaxed)
    }

    /// CPU time used so far, the run in progress included.
    pub fn used(&self) -> Duration {
        let mut used = self.used.load(Ordering::Relaxed);
        let since = self.since.load(Ordering::Relaxed);
        if since != IDLE {
            used += self.nanos(Instant::now()).saturating_sub(since);
        }
        Duration::from_nanos(used)
    }
}

#[cfg(test)]
mod tests;
