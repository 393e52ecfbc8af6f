//! Choosing a backend: the walk over the preference table (event.c:event_base_new_with_config).
//! Every base here is made with IGNORE_ENV, so the environment of whoever runs the tests cannot
//! change the outcome (environment.rs tests the variables, in child processes).

use minievent::backend::epoll::EPOLLOPS;
use minievent::backend::poll::POLLOPS;
use minievent::backend::select::SELECTOPS;
use minievent::{Backend, Base, BaseFlags, Config, Error, EventOp, Features};
use std::sync::atomic::{AtomicUsize, Ordering};

fn config() -> Config {
    Config::new().set_flag(BaseFlags::IGNORE_ENV)
}

fn method(cfg: &Config) -> &'static str {
    match Base::with_config(cfg) {
        Ok(base) => base.method(),
        Err(e) => panic!("Base::with_config failed: {e}"),
    }
}

fn error(cfg: &Config) -> String {
    match Base::with_config(cfg) {
        Ok(base) => panic!("expected an error, but the base got {}", base.method()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_first_row_of_the_table_is_chosen() {
    let base = Base::with_config(&config()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        base.method(),
        "epoll",
        "left: what your code gave, right: what libevent does"
    );
    assert_eq!(
        base.features(),
        Features::ET | Features::O1 | Features::EARLY_CLOSE,
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn the_walk_follows_the_config_table_in_order() {
    let cfg = config().methods(&[SELECTOPS, POLLOPS, EPOLLOPS]);
    assert_eq!(
        method(&cfg),
        "select",
        "walk cfg.methods (the table the config carries), first row first (left: what your code gave, right: what libevent does)"
    );
    let cfg = config().methods(&[POLLOPS, EPOLLOPS]);
    assert_eq!(
        method(&cfg),
        "poll",
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn avoided_methods_are_skipped() {
    assert_eq!(
        method(&config().avoid_method("epoll")),
        "poll",
        "left: what your code gave, right: what libevent does"
    );
    assert_eq!(
        method(&config().avoid_method("epoll").avoid_method("poll")),
        "select",
        "left: what your code gave, right: what libevent does"
    );
    assert_eq!(
        method(&config().avoid_method("poll")),
        "epoll",
        "left: what your code gave, right: what libevent does"
    );
}

#[test]
fn a_backend_without_a_required_feature_is_skipped() {
    assert_eq!(
        method(&config().require_features(Features::FDS)),
        "poll",
        "epoll lacks FDS (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        method(&config().require_features(Features::ET | Features::O1)),
        "epoll",
        "left: what your code gave, right: what libevent does"
    );
    assert_eq!(
        method(
            &config()
                .require_features(Features::FDS)
                .avoid_method("poll")
        ),
        "select",
        "poll avoided, select has FDS (left: what your code gave, right: what libevent does)"
    );
}

#[test]
fn no_backend_left_is_an_error() {
    let all_avoided = config()
        .avoid_method("epoll")
        .avoid_method("poll")
        .avoid_method("select");
    let why = error(&all_avoided);
    assert!(
        why.contains("no event mechanism available"),
        "the error should say so, it says: {why}"
    );
    let why = error(&config().require_features(Features::ET | Features::FDS));
    assert!(
        why.contains("no event mechanism available"),
        "no backend has ET and FDS; the error says: {why}"
    );
}

fn broken_init() -> minievent::Result<Box<dyn Backend>> {
    Err(Error::Invalid("broken on purpose".into()))
}

const BROKEN: EventOp = EventOp {
    name: "broken",
    features: Features::NONE,
    init: broken_init,
};

#[test]
fn a_backend_whose_init_fails_is_skipped() {
    assert_eq!(
        method(&config().methods(&[BROKEN, POLLOPS, SELECTOPS])),
        "poll",
        "left: what your code gave, right: what libevent does"
    );
    let why = error(&config().methods(&[BROKEN]));
    assert!(why.contains("no event mechanism available"), "{why}");
}

static SKIPPED_INITS: AtomicUsize = AtomicUsize::new(0);

fn counted_init() -> minievent::Result<Box<dyn Backend>> {
    SKIPPED_INITS.fetch_add(1, Ordering::SeqCst);
    (SELECTOPS.init)()
}

const COUNTED: EventOp = EventOp {
    name: "counted",
    features: Features::NONE,
    init: counted_init,
};

#[test]
fn skipped_rows_are_never_initialised_and_the_walk_stops_at_the_first_success() {
    let cfg = config()
        .methods(&[COUNTED, POLLOPS, COUNTED])
        .avoid_method("counted");
    assert_eq!(
        method(&cfg),
        "poll",
        "left: what your code gave, right: what libevent does"
    );
    assert_eq!(
        SKIPPED_INITS.load(Ordering::SeqCst),
        0,
        "an avoided row's init was called (left: what your code gave, right: what libevent does)"
    );
    let cfg = config()
        .methods(&[COUNTED, POLLOPS, COUNTED])
        .require_features(Features::FDS);
    assert_eq!(
        method(&cfg),
        "poll",
        "COUNTED has no FDS (left: what your code gave, right: what libevent does)"
    );
    assert_eq!(
        SKIPPED_INITS.load(Ordering::SeqCst),
        0,
        "a row lacking a required feature was initialised (left: what your code gave, right: what libevent does)"
    );
    let cfg = config().methods(&[POLLOPS, COUNTED]);
    assert_eq!(
        method(&cfg),
        "poll",
        "left: what your code gave, right: what libevent does"
    );
    assert_eq!(
        SKIPPED_INITS.load(Ordering::SeqCst),
        0,
        "the walk went on after poll initialised (left: what your code gave, right: what libevent does)"
    );
}
