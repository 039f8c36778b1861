//! Forwarding a plugin's `tracing` events to the host.
//!
//! A shared library has its own copy of `tracing` and so its own
//! dispatcher: without help, a plugin's events go nowhere. At `connect` the
//! plugin installs [`Forward`] as its subscriber; each event it sees is
//! formatted ("message key=value …") and pushed through the host's
//! [`LogSink`], whose host side ([`HostLog`]) re-emits it with the host's
//! `tracing` under target `ww::provider`, with a `provider` field.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use abi_stable::std_types::RStr;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::ffi::{LogSink, LogSinkBox, LogSink_TO};

/// Level as carried across FFI: 1 = error … 5 = trace.
pub(crate) fn level_code(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// The host's most verbose enabled level as a code (0 = off).
pub(crate) fn host_max_level() -> u8 {
    use tracing::level_filters::LevelFilter;
    match LevelFilter::current().into_level() {
        None => 0,
        Some(level) => level_code(&level),
    }
}

/// Plugin side: a layer sending every event up to `max_level` to the host.
pub(crate) struct Forward {
    sink: Arc<LogSinkBox>,
    max_level: u8,
}

impl Forward {
    pub(crate) fn new(sink: LogSinkBox, max_level: u8) -> Self {
        Forward {
            sink: Arc::new(sink),
            max_level,
        }
    }

    /// The subscriber to install on the plugin's thread.
    pub(crate) fn subscriber(self) -> impl Subscriber + Send + Sync {
        use tracing_subscriber::layer::SubscriberExt;
        let max = match self.max_level {
            0 => tracing::level_filters::LevelFilter::OFF,
            1 => tracing::level_filters::LevelFilter::ERROR,
            2 => tracing::level_filters::LevelFilter::WARN,
            3 => tracing::level_filters::LevelFilter::INFO,
            4 => tracing::level_filters::LevelFilter::DEBUG,
            _ => tracing::level_filters::LevelFilter::TRACE,
        };
        tracing_subscriber::registry().with(self.with_filter(max))
    }
}

impl<S: Subscriber> Layer<S> for Forward {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut text = Message::default();
        event.record(&mut text);
        self.sink.log(
            level_code(meta.level()),
            RStr::from_str(meta.target()),
            RStr::from_str(&text.0),
        );
    }
}

/// "message key=value …" of one event.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let fields = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}");
            if !fields.is_empty() {
                self.0.push(' ');
                self.0.push_str(&fields);
            }
        } else {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            let _ = write!(self.0, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }
}

/// Host side: re-emits a plugin's events as the host's own.
pub(crate) struct HostLog {
    provider: String,
}

impl HostLog {
    pub(crate) fn sink(provider: &str) -> LogSinkBox {
        LogSink_TO::from_value(
            HostLog {
                provider: provider.to_string(),
            },
            abi_stable::sabi_trait::TD_Opaque,
        )
    }
}

impl LogSink for HostLog {
    fn log(&self, level: u8, target: RStr<'_>, message: RStr<'_>) {
        // Called from the plugin's thread, across FFI: must not unwind.
        let _ = std::panic::catch_unwind(|| {
            emit(&self.provider, level, target.as_str(), message.as_str())
        });
    }
}

/// One forwarded event into the host's subscriber.
pub(crate) fn emit(provider: &str, level: u8, target: &str, message: &str) {
    macro_rules! at {
        ($level:expr) => {
            tracing::event!(target: "ww::provider", $level, provider = %provider, plugin_target = %target, "{message}")
        };
    }
    match level {
        1 => at!(Level::ERROR),
        2 => at!(Level::WARN),
        3 => at!(Level::INFO),
        4 => at!(Level::DEBUG),
        _ => at!(Level::TRACE),
    }
}
