use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::*;

/// The scheduler's choices alone, with slices of a fixed length charged
/// to whoever it picks: each of `shares` is always ready.
fn slices_won(shares: &[Share], rounds: usize) -> Vec<usize> {
    let state = shares[0].inner.state.clone();
    let mut won = vec![0; shares.len()];
    for _ in 0..rounds {
        for s in shares {
            state.wait(&s.inner.own, Waker::noop());
        }
        state.choose();
        let Turn::Granted(chosen) = state.turn.replace(Turn::Closed) else {
            panic!("someone is ready");
        };
        let i = shares
            .iter()
            .position(|s| s.inner.own.id == chosen)
            .unwrap();
        won[i] += 1;
        state.leave_queue(chosen);
        state.charge(
            &shares[i].inner.own,
            Instant::now(),
            Duration::from_millis(2),
        );
    }
    won
}

#[test]
fn a_group_of_many_gets_what_one_sibling_gets() {
    let scheduler = Scheduler::new();
    let pid0 = scheduler.top("pid0");
    let service = pid0.child("service");
    let lone = pid0.child("lone");
    let mut shares: Vec<Share> = (0..16)
        .map(|i| service.child(&format!("spin{i}")))
        .collect();
    shares.push(lone.clone());
    let won = slices_won(&shares, 2000);
    let swarm: usize = won[..16].iter().sum();
    let alone = won[16];
    // Two groups under pid0, each always ready: half each (within the
    // granularity of one slice per decision).
    assert!(
        swarm.abs_diff(alone) <= 2,
        "16 spinners together got {swarm} slices, their lone sibling {alone}"
    );
    // Within the service, the sixteen share alike.
    let (min, max) = (
        won[..16].iter().min().unwrap(),
        won[..16].iter().max().unwrap(),
    );
    assert!(max - min <= 2, "{:?}", &won[..16]);
}

#[test]
fn a_cell_that_has_been_idle_runs_before_a_busy_one() {
    let scheduler = Scheduler::new();
    let pid0 = scheduler.top("pid0");
    let busy = pid0.child("busy");
    let spinners: Vec<Share> = (0..8).map(|i| busy.child(&format!("spin{i}"))).collect();
    // The spinners have run a while.
    slices_won(&spinners, 100);
    let mut all = spinners.clone();
    all.push(pid0.clone());
    let state = pid0.inner.state.clone();
    for s in &all {
        state.wait(&s.inner.own, Waker::noop());
    }
    state.choose();
    assert_eq!(state.turn.get(), Turn::Granted(pid0.inner.own.id));
}

#[test]
fn the_order_is_total_whatever_the_depths() {
    let scheduler = Scheduler::new();
    let a = scheduler.top("a");
    let deep = a.child("b").child("c").child("d");
    let shallow = scheduler.top("e");
    let now = Instant::now();
    // Exactly one of two distinct cells runs first, and a cell does not run
    // before itself.
    for (x, y) in [(&a, &deep), (&deep, &shallow), (&a, &shallow)] {
        let (x, y) = (&x.inner.own, &y.inner.own);
        assert_ne!(runs_before(x, y, now), runs_before(y, x, now));
        assert!(!runs_before(x, x, now));
    }
    // `deep` is inside `a`: its use counts against `a`'s group too.
    a.inner
        .state
        .charge(&deep.inner.own, now, Duration::from_millis(50));
    assert!(runs_before(&shallow.inner.own, &a.inner.own, now));
    assert!(runs_before(&a.inner.own, &deep.inner.own, now));
}

#[test]
fn past_use_fades_with_the_half_life() {
    let scheduler = Scheduler::new();
    let a = scheduler.top("a");
    let start = Instant::now();
    a.inner.own.charge(start, 1.0);
    let later = a.inner.own.recent(start + HALF_LIFE);
    assert!((later - 0.5).abs() < 1e-9, "{later}");
}

/// A pretend guest: each poll computes for `slice`, then yields the way a
/// cell does at an engine tick; `slices` counts every slice of every cell.
async fn spin(meter: Arc<Meter>, slice: Duration, slices: Arc<AtomicU64>, stop: Rc<Cell<bool>>) {
    while !stop.get() {
        let until = Instant::now() + slice;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        slices.fetch_add(1, Ordering::SeqCst);
        meter.slice_ended();
        tokio::task::yield_now().await;
    }
}

fn local_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Spawns a spinner for each of `shares`.
fn spinners(
    shares: &[&Share],
    slice: Duration,
    slices: &Arc<AtomicU64>,
    stop: &Rc<Cell<bool>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    shares
        .iter()
        .map(|share| {
            let run = share.run(spin(share.meter(), slice, slices.clone(), stop.clone()));
            tokio::task::spawn_local(run)
        })
        .collect()
}

#[test]
fn measured_time_follows_the_tree() {
    local_runtime().block_on(tokio::task::LocalSet::new().run_until(async {
        let scheduler = Scheduler::new();
        let pid0 = scheduler.top("pid0");
        let service = pid0.child("service");
        let lone = pid0.child("lone");
        let slices = Arc::new(AtomicU64::new(0));
        let stop = Rc::new(Cell::new(false));
        let swarm: Vec<Share> = (0..8).map(|i| service.child(&format!("s{i}"))).collect();
        let mut all: Vec<&Share> = swarm.iter().collect();
        all.push(&lone);
        let tasks = spinners(&all, Duration::from_micros(300), &slices, &stop);
        while slices.load(Ordering::SeqCst) < 400 {
            tokio::task::yield_now().await;
        }
        stop.set(true);
        for t in tasks {
            t.await.unwrap();
        }
        let swarm: Duration = swarm.iter().map(Share::used).sum();
        let lone = lone.used();
        // Half each; without the tree the lone spinner would get a ninth.
        let ratio = lone.as_secs_f64() / swarm.as_secs_f64();
        assert!(
            (0.6..1.6).contains(&ratio),
            "the lone spinner used {lone:?}, the eight of the service {swarm:?} together"
        );
    }));
}

#[test]
fn other_tasks_run_between_any_two_slices() {
    local_runtime().block_on(tokio::task::LocalSet::new().run_until(async {
        let scheduler = Scheduler::new();
        let pid0 = scheduler.top("pid0");
        let slices = Arc::new(AtomicU64::new(0));
        let stop = Rc::new(Cell::new(false));
        let shares: Vec<Share> = (0..16).map(|i| pid0.child(&format!("spin{i}"))).collect();
        let tasks = spinners(
            &shares.iter().collect::<Vec<_>>(),
            Duration::from_micros(200),
            &slices,
            &stop,
        );
        // A control-plane task, woken from another thread (as I/O would
        // wake it) while the cells spin: how many guest slices pass
        // between the wake and its run?
        let notify = Arc::new(tokio::sync::Notify::new());
        let mut worst = 0;
        for _ in 0..50 {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (waker, counter) = (notify.clone(), slices.clone());
            let target = slices.load(Ordering::SeqCst) + 20;
            // The wake lands once the cells have run a few slices (the
            // other thread waits on their count, not on a clock).
            let wake = std::thread::spawn(move || {
                while counter.load(Ordering::SeqCst) < target {
                    std::thread::yield_now();
                }
                waker.notify_one();
                counter.load(Ordering::SeqCst)
            });
            notified.await;
            let after = slices.load(Ordering::SeqCst);
            let at = wake.join().unwrap();
            worst = worst.max(after - at);
        }
        stop.set(true);
        for t in tasks {
            t.await.unwrap();
        }
        assert!(worst <= 2, "{worst} slices ran between a wake and its task");
    }));
}

#[test]
fn a_newcomer_shares_with_its_busy_siblings_at_once() {
    let scheduler = Scheduler::new();
    let pid0 = scheduler.top("pid0");
    let busy = pid0.child("busy");
    busy.inner
        .state
        .charge(&busy.inner.own, Instant::now(), Duration::from_secs(1));
    // Born after its sibling ran a full second: no head start for it.
    let newcomer = pid0.child("newcomer");
    let won = slices_won(&[busy, newcomer], 100);
    assert!(won[0].abs_diff(won[1]) <= 2, "{won:?}");
}

#[test]
fn work_done_for_a_cell_on_another_task_is_charged_to_it() {
    let scheduler = Scheduler::new();
    let pid0 = scheduler.top("pid0");
    let quiet = pid0.child("quiet");
    let busy = pid0.child("busy");
    // `busy` runs no code of its own, but its vat works 20 ms for it.
    futures::executor::block_on(busy.charged(async {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(20) {
            std::hint::spin_loop();
        }
    }));
    assert!(busy.used() >= Duration::from_millis(20), "{busy:?}");
    assert_eq!(quiet.used(), Duration::ZERO);
    // Its group weighs that: the quiet sibling runs first.
    let state = pid0.inner.state.clone();
    for s in [&busy, &quiet] {
        state.wait(&s.inner.own, Waker::noop());
    }
    state.choose();
    assert_eq!(state.turn.get(), Turn::Granted(quiet.inner.own.id));
    // Work done inside a cell's own run is that run's, not counted twice.
    let before = busy.used();
    state.running.set(true);
    futures::executor::block_on(busy.charged(async {}));
    state.running.set(false);
    assert_eq!(busy.used(), before);
}

#[test]
fn the_ticker_sees_a_cell_busy_only_while_its_code_runs() {
    let scheduler = Scheduler::new();
    let busy = scheduler.busy();
    let cell = scheduler.top("cell");
    let seen = Rc::new(Cell::new(false));
    let inside = (busy.clone(), seen.clone());
    let outer = cell.clone();
    futures::executor::block_on(cell.run(async move {
        inside.1.set(inside.0.running());
        // A cell polled from inside another's run leaves it running.
        outer.child("nested").run(async {}).await;
        inside.1.set(inside.1.get() && inside.0.running());
    }));
    assert!(seen.get(), "busy during the run");
    assert!(!busy.running(), "idle after it");
}
